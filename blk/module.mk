# antfarm-blk (owned by the backend work; the scheduler files are listed here too)
BLK_SRCS := blk/sched.c
BLK_OBJS := $(BLK_SRCS:%.c=$(BUILD)/%.o)
