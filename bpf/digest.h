/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The digest of a page-table root page (AF_DIGEST_*, antfarm_abi.h): an
 * FNV-1a hash of its present PML4 entries with U/S set, each with its
 * index.  One definition for the BPF side (reading guest memory from a
 * vCPU thread) and the agent (re-reading unshadowed roots through
 * /proc/PID/mem), so both see the same value.  Branch-free, so the
 * verifier walks the 512 entries once.
 */
#ifndef AF_DIGEST_H
#define AF_DIGEST_H

static inline __u64 af_digest_of(const __u64 *e)
{
	__u64 h = 0xcbf29ce484222325ull;
	__u32 n = 0;
	int i;

	for (i = 0; i < 512; i++) {
		__u64 u = e[i] & (e[i] >> 2) & 1;	/* present and user */

		h = (h ^ ((e[i] ^ ((__u64)i << 52)) * u)) * (1 + u * (0x100000001b3ull - 1));
		n += u;
	}
	return AF_DIGEST_VALID | (n ? (__u32)(h ^ (h >> 32)) : AF_DIGEST_EMPTY);
}

#endif
