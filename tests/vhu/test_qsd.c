// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vhu against qemu-storage-daemon, the reference back-end: negotiation,
 * patterned I/O on two queues, flush, discard/write-zeroes read as zeros,
 * get-id, range errors, read-only export, reconnect.
 */
#include "testlib.h"

int main(void)
{
	if (!vhu_qsd_path())
		test_skip("qemu-storage-daemon not installed");
	test_proto_data(VHU_QSD);
	test_read_only(VHU_QSD);
	return test_exit("vhu vs qemu-storage-daemon");
}
