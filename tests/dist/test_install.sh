#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make install DESTDIR=... PREFIX=/usr puts the binaries, the systemd units
# (naming the installed binaries), the sysusers.d group and the man pages
# where a Debian system looks for them.
B=${ANTFARM_BUILD:-build}
d=$(mktemp -d /tmp/antfarm-install.XXXXXX) || exit 1
trap 'rm -rf "$d"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

make -s --no-print-directory install BUILD="$B" DESTDIR="$d" PREFIX=/usr >"$d.log" 2>&1 ||
	{ cat "$d.log"; rm -f "$d.log"; echo "FAIL: make install"; exit 1; }
rm -f "$d.log"
for f in bin/antfarm sbin/antfarm-agent sbin/antfarm-blk \
	 lib/systemd/system/antfarm-agent.service lib/systemd/system/antfarm-blk@.service \
	 lib/sysusers.d/antfarm.conf \
	 share/man/man1/antfarm.1 share/man/man8/antfarm-agent.8 share/man/man8/antfarm-blk.8; do
	[ -f "$d/usr/$f" ] || bad "not installed: /usr/$f"
done
for b in bin/antfarm sbin/antfarm-agent sbin/antfarm-blk; do
	[ -x "$d/usr/$b" ] || bad "not executable: /usr/$b"
done
grep -q '^ExecStart=/usr/sbin/antfarm-agent ' "$d/usr/lib/systemd/system/antfarm-agent.service" ||
	bad "agent unit does not run /usr/sbin/antfarm-agent"
grep -q '^ExecStart=/usr/sbin/antfarm-blk ' "$d/usr/lib/systemd/system/antfarm-blk@.service" ||
	bad "blk unit does not run /usr/sbin/antfarm-blk"
grep -rq '@SBINDIR@' "$d/usr/lib/systemd/system" && bad "unsubstituted @SBINDIR@ in a unit"
if command -v man >/dev/null; then
	MANPATH="$d/usr/share/man" man -w antfarm-blk 2>/dev/null | grep -q "man8/antfarm-blk.8" ||
		bad "man does not find the installed antfarm-blk(8)"
fi
[ $fail = 0 ] && echo "make install: binaries, units, sysusers.d and man pages in place"
exit $fail
