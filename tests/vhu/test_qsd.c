// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vhu against qemu-storage-daemon, the reference back-end: negotiation,
 * patterned I/O on two queues, flush, discard/write-zeroes read as zeros,
 * get-id, range errors, read-only export, reconnect.
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* The vhu-client tool itself: verify and a one-second bench. */
static void test_client_tool(void)
{
	struct vhu_backend b;
	char disk[256], cmd[1024], out[1024] = "";
	const char *build = getenv("ANTFARM_BUILD") ? getenv("ANTFARM_BUILD") : "build";
	FILE *p;
	int rc;

	test_start(&b, VHU_QSD, "cli", 2, 1, NULL, disk, sizeof(disk));
	snprintf(cmd, sizeof(cmd), "%s/tests/vhu-client -s %s -q 2 verify", build, b.sock);
	rc = system(cmd);
	CHECK(rc == 0, "vhu-client verify: status %d", rc);
	snprintf(cmd, sizeof(cmd), "%s/tests/vhu-client -s %s -q 2 bench --rw randwrite "
		 "--qd 4 -t 1 --json --pid %d --label backend=qsd", build, b.sock, (int)b.pid);
	p = popen(cmd, "r");
	if (p && !fgets(out, sizeof(out), p))
		out[0] = 0;
	rc = p ? pclose(p) : -1;
	CHECK(rc == 0 && strstr(out, "\"backend\":\"qsd\"") && strstr(out, "\"errors\":0,") &&
	      strstr(out, "\"cpu_s_per_mio\":") && !strstr(out, "\"iops\":0,"),
	      "vhu-client bench --json: status %d, output %s", rc, out);
	vhu_backend_stop(&b);
}

int main(void)
{
	if (!vhu_qsd_path())
		test_skip("qemu-storage-daemon not installed");
	test_proto_data(VHU_QSD);
	test_read_only(VHU_QSD);
	test_client_tool();
	return check_summary("vhu vs qemu-storage-daemon");
}
