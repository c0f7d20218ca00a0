# make bench-blk: vhu-client against antfarm-blk and qemu-storage-daemon,
# and fio (io_uring) on the same file as the limit; one JSON object per
# line per point, then a table.  Not a test.
#   make bench-blk [SECONDS=5] [QUEUES=1] [SIZE=1G] [DISKDIR=/var/tmp] [REPEAT=1]
# REPEAT=N runs each point N times (the three back-ends interleaved); the
# table shows the median of each column.
# The defaults are applied here, not as global variables: other targets
# (make accuracy SIZE=...) use some of the same names.
bench-blk: $(VHU_CLIENT) $(BUILD)/antfarm-blk
	$(Q)BENCH_SECONDS=$(or $(SECONDS),5) QUEUES=$(or $(QUEUES),1) SIZE=$(or $(SIZE),1G) \
	  DISKDIR=$(or $(DISKDIR),/var/tmp) REPEAT=$(or $(REPEAT),1) \
	  VHU_CLIENT=$(VHU_CLIENT) ANTFARM_BLK=$(BUILD)/antfarm-blk \
	  OUT=$(BUILD)/bench-blk.jsonl sh bench/blk/run.sh
