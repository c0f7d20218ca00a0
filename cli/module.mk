# antfarm: the CLI.  Shares the JSON reader and the socket code (lib/).
BINS += $(BUILD)/antfarm

$(BUILD)/antfarm: $(BUILD)/cli/antfarm.o $(BUILD)/cli/top.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
