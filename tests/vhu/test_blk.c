// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vhu against antfarm-blk: the same protocol + data cases as test-qsd, the
 * read-only disk (writes get IOERR), out-of-range sectors (IOERR), and the
 * vhost-user back-end convention --print-capabilities.
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static void test_capabilities(void)
{
	char cmd[600], out[512] = "";
	FILE *p;
	size_t n = 0;
	int rc;

	snprintf(cmd, sizeof(cmd), "%s --print-capabilities", vhu_blk_path());
	p = popen(cmd, "r");
	if (p) {
		n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = 0;
	}
	rc = p ? pclose(p) : -1;
	CHECK(rc == 0, "--print-capabilities exit status %d", rc);
	CHECK(strstr(out, "\"type\"") && strstr(out, "\"block\""),
	      "--print-capabilities printed no \"type\": \"block\": %s", out);
}

int main(void)
{
	if (!vhu_blk_path())
		test_skip("antfarm-blk not built yet (no %s/antfarm-blk)",
			  getenv("ANTFARM_BUILD") ? getenv("ANTFARM_BUILD") : "build");
	test_capabilities();
	test_proto_data(VHU_BLK);
	test_read_only(VHU_BLK);
	return check_summary("vhu vs antfarm-blk");
}
