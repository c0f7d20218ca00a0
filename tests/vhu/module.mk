# vhu: vhost-user-blk front-end library, the vhu-client tool and the tests
# that drive qemu-storage-daemon and antfarm-blk with it.
VHU_LIB_OBJS := $(addprefix $(BUILD)/tests/vhu/,vhu.o vhu_ring.o vhu_msg.o vhu_check.o backend.o testlib.o) \
		$(CHECK_OBJS) $(LIB_OBJS)
VHU_CLIENT   := $(BUILD)/tests/vhu-client
VHU_CLIENT_OBJS := $(addprefix $(BUILD)/tests/vhu/,vhu_client.o vhu_bench.o vhu_raw.o)
VHU_TESTS    := $(addprefix $(BUILD)/tests/vhu/,test-qsd test-blk test-hostile test-restart \
		test-peers test-shrink)

TEST_PROGS += $(VHU_TESTS) tests/vhu/asan.sh
build-all: $(VHU_CLIENT)

$(VHU_CLIENT): $(VHU_CLIENT_OBJS) $(VHU_LIB_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

$(BUILD)/tests/vhu/test-%: $(BUILD)/tests/vhu/test_%.o $(VHU_LIB_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@
.SECONDARY: $(VHU_TESTS:$(BUILD)/tests/vhu/test-%=$(BUILD)/tests/vhu/test_%.o)
$(BUILD)/tests/vhu/test-hostile: $(BUILD)/tests/vhu/hostile_msg.o $(BUILD)/tests/vhu/hostile_fuzz.o
