# Objects of the scheduler library (blk/sched*.c, blk/hdd.c) plus the
# simulator, shared by tests/sched and bench/sched (included by both, so
# the order in which the top Makefile includes them does not matter).
SCHED_LIB_SRCS := blk/sched.c $(sort $(wildcard blk/sched_*.c)) blk/hdd.c
SCHED_SIM_OBJS := $(SCHED_LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/tests/sched/sim.o
