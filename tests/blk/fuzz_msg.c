// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: vhost-user message reception (vhost_user_rx_read) and
 * the validation gate.
 * The input is streamed through a socketpair (with 0-3 fds attached, as
 * chosen by the first byte); every message that passes the gate is then
 * checked the way the handlers use it (memory table, config window).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "vub.h"
#include "vhost_msg.h"

static void use(const struct vhost_user_msg *m)
{
	struct vub_mem mem = { .refs = 1 };
	uint8_t cfg[VHOST_USER_MAX_CONFIG_SIZE] = { 0 };

	switch (m->hdr.request) {
	case VHOST_USER_SET_MEM_TABLE:
		if (m->p.mem.nregions > VUB_MAX_REGIONS || m->nfds != m->p.mem.nregions)
			abort();	/* the gate must have refused it */
		mem.nregions = m->p.mem.nregions;
		for (unsigned i = 0; i < mem.nregions; i++) {
			mem.r[i].gpa = m->p.mem.r[i].gpa;
			mem.r[i].size = m->p.mem.r[i].size;
			mem.r[i].uva = m->p.mem.r[i].uva;
			mem.r[i].mmap_offset = m->p.mem.r[i].mmap_offset;
		}
		vub_mem_check(&mem);
		break;
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG: {
		uint8_t out[VHOST_USER_MAX_CONFIG_SIZE];

		/* what get_config does: must stay inside both buffers */
		memcpy(out, cfg + m->p.config.offset, m->p.config.size);
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	int sv[2], fds[3];
	unsigned nfds;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct vhost_user_rx rx = { 0 };

	if (size < 2 || size > 4096 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	nfds = data[0] % 4;
	for (unsigned i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	iov = (struct iovec){ (void *)(data + 1), size - 1 };
	if (nfds) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	if (sendmsg(sv[0], &mh, 0) < 0)
		goto out;
	shutdown(sv[0], SHUT_WR);
	/* the whole input is in the socket, then EOF: never VUB_RX_MORE */
	for (;;) {
		const char *why = NULL;

		if (vhost_user_rx_read(sv[1], &rx, 1, &why) != VUB_RX_MSG)
			break;
		if (!vhost_user_msg_check(&rx.msg, 4))
			use(&rx.msg);
		vhost_user_msg_close_fds(&rx.msg);
	}
	vhost_user_rx_reset(&rx);
out:
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
