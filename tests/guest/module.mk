# The test guest: a freestanding x86-64 PVH ELF booted by QEMU -M microvm.
# Built with the host compiler; no libc.  user.c becomes the .utext section
# (position independent, mapped into every process).
GUEST_DIR  := tests/guest
GUEST_OUT  := $(BUILD)/tests/guest
GUEST_ELF  := $(GUEST_OUT)/guest.elf
GUEST_KSRC := $(addprefix $(GUEST_DIR)/,kernel.c mm.c sched.c virtio.c log.c)
GUEST_OBJS := $(GUEST_KSRC:$(GUEST_DIR)/%.c=$(GUEST_OUT)/%.o) $(GUEST_OUT)/boot.o $(GUEST_OUT)/user.o
GUEST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding \
	-fno-stack-protector -fno-builtin -mgeneral-regs-only -mno-red-zone -fno-asynchronous-unwind-tables \
	-fcf-protection=none -MMD -MP -I$(GUEST_DIR)

$(GUEST_OUT)/%.o: $(GUEST_DIR)/%.c $(FLAGS_FILE)
	$(call msg,GUEST-CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(GUEST_CFLAGS) -fno-pie -c $< -o $@

$(GUEST_OUT)/boot.o: $(GUEST_DIR)/boot.S $(FLAGS_FILE)
	$(call msg,GUEST-AS,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(GUEST_CFLAGS) -fno-pie -c $< -o $@

# user code must be pure text: refuse data sections it could not reach
$(GUEST_OUT)/user.o: $(GUEST_DIR)/user.c $(FLAGS_FILE)
	$(call msg,GUEST-CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(GUEST_CFLAGS) -fpie -fno-plt -fno-jump-tables -fvisibility=hidden -c $< -o $@.tmp.o
	$(Q)if objdump -h $@.tmp.o | awk '$$2 ~ /^\.(rodata|data|bss|got)/ && $$3 !~ /^0+$$/ {f=1; print} END {exit !f}'; then \
		echo "user.c must not use data sections" >&2; rm -f $@.tmp.o; exit 1; fi
	$(Q)objcopy --rename-section .text=.utext $@.tmp.o $@ && rm -f $@.tmp.o

$(GUEST_ELF): $(GUEST_OBJS) $(GUEST_DIR)/guest.ld
	$(call msg,GUEST-LD,$@)
	$(Q)$(CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
		-T $(GUEST_DIR)/guest.ld -o $@ $(GUEST_OBJS)

build-all: $(GUEST_ELF)
guest: $(GUEST_ELF)
.PHONY: guest

TEST_PROGS += tests/guest/test-guest
