# The /metrics HTTP server (lib/httpd.c): its request parser under
# libFuzzer, and the agent's and antfarm-blk's endpoints against curl.
HTTP_FUZZ := $(BUILD)/tests/http/fuzz_http
$(HTTP_FUZZ): tests/http/fuzz_http.c lib/httpd.c lib/httpd.h lib/clock.h
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< lib/httpd.c -o $@

build-all: $(HTTP_FUZZ)
TEST_PROGS += tests/http/fuzz-short.sh tests/http/test_metrics.py
