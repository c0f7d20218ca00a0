# antfarm-blk: io_uring vhost-user-blk backend (blk/), linked with lib/.
# The scheduler helper's files (blk/sched_*.c, blk/hdd.c) are picked up
# through SCHED_SRCS without editing this file.
SCHED_SRCS := blk/sched.c $(sort $(wildcard blk/sched_*.c)) blk/hdd.c
BLK_CORE_SRCS := blk/mem.c blk/virtq.c blk/blkreq.c blk/vhost_msg.c blk/stats.c
BLK_SRCS := $(BLK_CORE_SRCS) blk/vhost_user.c blk/inflight.c blk/worker.c blk/worker_ctl.c blk/tags.c \
            blk/fault.c \
            blk/hints.c blk/report.c blk/metrics.c blk/opts.c blk/main.c $(SCHED_SRCS)
BLK_OBJS := $(BLK_SRCS:%.c=$(BUILD)/%.o)
BLK_CORE_OBJS := $(BLK_CORE_SRCS:%.c=$(BUILD)/%.o)

BINS += $(BUILD)/antfarm-blk

$(BUILD)/antfarm-blk: $(BLK_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ -luring -lpthread -lm
