# asvmm: the KVM-API test VMM (tests/kvm/asvmm.c, script.c) with its
# ring-0 guest (guest.S), assembled into a flat binary and linked into the
# VMM; test-asvmm runs its scenarios under the real agent.

ASVMM_OUT  := $(BUILD)/tests/kvm
ASVMM      := $(ASVMM_OUT)/asvmm
ASVMM_BIN  := $(ASVMM_OUT)/guest.bin
ASVMM_OBJS := $(ASVMM_OUT)/asvmm.o $(ASVMM_OUT)/script.o $(ASVMM_OUT)/blob.o $(LIB_OBJS)

$(ASVMM_OUT)/asvmm.o $(ASVMM_OUT)/script.o: CFLAGS += -Itests/kvm

# the guest must be one position-independent .text section within CODE_MAX
$(ASVMM_OUT)/guest.o: tests/kvm/guest.S tests/kvm/asvmm.h
	$(call msg,GUEST-AS,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -c -Itests/kvm $< -o $@
	$(Q)if readelf -r $@ | grep -q 'R_X86_64'; then \
		echo "guest.S must not need relocations" >&2; rm -f $@; exit 1; fi

$(ASVMM_BIN): $(ASVMM_OUT)/guest.o
	$(call msg,OBJCOPY,$@)
	$(Q)objcopy -O binary -j .text $< $@
	$(Q)test $$(stat -c %s $@) -le 32768 || { echo "$@ larger than CODE_MAX" >&2; rm -f $@; exit 1; }

$(ASVMM_OUT)/blob.o: tests/kvm/blob.S $(ASVMM_BIN)
	$(call msg,AS,$@)
	$(Q)$(CC) -c -DGUEST_BIN='"$(ASVMM_BIN)"' $< -o $@

$(ASVMM): $(ASVMM_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lpthread

build-all: $(ASVMM)
TEST_PROGS += tests/kvm/test-asvmm tests/kvm/test-neighbour
