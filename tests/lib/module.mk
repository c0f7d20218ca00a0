# tests/lib: what every C test links (the one CHECK, check.h).
CHECK_OBJS := $(BUILD)/tests/lib/check.o
