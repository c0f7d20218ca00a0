# antfarm: the CLI.  Shares the JSON reader with the agent.
BINS += $(BUILD)/antfarm

$(BUILD)/antfarm: $(BUILD)/cli/antfarm.o $(BUILD)/agent/json.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^
