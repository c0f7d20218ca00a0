# make bench-blk: vhu-client against antfarm-blk and qemu-storage-daemon,
# and fio (io_uring) on the same file as the limit; one JSON object per
# line per point, then a table.  Not a test.
#   make bench-blk [SECONDS=5] [QUEUES=1] [SIZE=1G] [DISKDIR=/var/tmp] [REPEAT=1]
# REPEAT=N runs each point N times (the three back-ends interleaved); the
# table shows the median of each column.
SECONDS ?= 5
QUEUES  ?= 1
SIZE    ?= 1G
DISKDIR ?= /var/tmp
REPEAT  ?= 1

bench-blk: $(VHU_CLIENT) $(BUILD)/antfarm-blk
	$(Q)BENCH_SECONDS=$(SECONDS) QUEUES=$(QUEUES) SIZE=$(SIZE) DISKDIR=$(DISKDIR) REPEAT=$(REPEAT) \
	  VHU_CLIENT=$(VHU_CLIENT) ANTFARM_BLK=$(BUILD)/antfarm-blk \
	  OUT=$(BUILD)/bench-blk.jsonl sh bench/blk/run.sh
