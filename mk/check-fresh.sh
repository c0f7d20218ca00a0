#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make check-fresh: do the README's first steps on a minimal Debian 12, the
# way a new user would.  Builds a fresh `debootstrap --variant=minbase
# bookworm` root in a folder, then inside it (chroot, with /proc, /sys and
# /dev from the host, so BPF and /dev/kvm are the host's):
#   - the README's commands that fetch the source (apt-get install git, git
#     clone), cloning this tree's HEAD from a git bundle instead of the URL;
#   - the README's two commands, exactly as written there.
# Both blocks are read from README.md, so the check follows the README.
# Not part of `make test`: it downloads a Debian system (about 40 MB) and the
# build's packages (several hundred MB).  Needs root and debootstrap.
#
#   FRESH_ROOT=DIR     where to build the root (default: a new directory
#                      under /var/tmp, outside the build tree, whose .d files
#                      the Makefile reads; an old root at DIR is removed)
#   FRESH_MIRROR=URL   Debian mirror (default http://deb.debian.org/debian)
#   FRESH_KEEP=1       keep the root afterwards (to look around in it)
#
# Prints the log of each step and ends "check-fresh: PASS" or "FAIL".
set -u
B=${ANTFARM_BUILD:-build}
ROOT=${FRESH_ROOT:-}
MIRROR=${FRESH_MIRROR:-http://deb.debian.org/debian}
cd "$(dirname "$0")/.."
top=$(pwd)

die() { echo "check-fresh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts)"
command -v debootstrap >/dev/null || die "needs debootstrap (apt-get install debootstrap)"
[ -n "$ROOT" ] || ROOT=$(mktemp -d /var/tmp/antfarm-fresh.XXXXXX) || exit 1
mkdir -p "$(dirname "$ROOT")" "$B"
ROOT=$(cd "$(dirname "$ROOT")" && pwd)/$(basename "$ROOT")

# The fenced ```sh blocks of README.md, numbered from 1: block N's command
# lines, comments and blank lines dropped.
readme_block() {
	awk -v want="$1" '
		/^```sh/ { n++; inblk = (n == want); next }
		/^```/   { inblk = 0; next }
		inblk    { sub(/[ \t]+#.*$/, ""); if ($0 !~ /^[ \t]*(#|$)/) print }
	' README.md
}
# The block that gets the source is the one with `git clone`; the two
# commands are the first block.
src_block() {
	n=1
	while :; do
		b=$(readme_block $n)
		[ -n "$b" ] || return 1
		case "$b" in *"git clone"*) echo "$b"; return 0 ;; esac
		n=$((n + 1))
	done
}
cmds=$(readme_block 1)
src=$(src_block) || die "README.md has no block with git clone"
[ -n "$cmds" ] || die "README.md has no first sh block"

mounted() { grep -q " $ROOT/" /proc/self/mounts; }

# Mounts are made slaves so that unmounting them here cannot propagate back
# to the host's /sys and /dev.
mount_all() {
	mount -t proc proc "$ROOT/proc" &&
	mount --rbind /sys "$ROOT/sys" && mount --make-rslave "$ROOT/sys" &&
	mount --rbind /dev "$ROOT/dev" && mount --make-rslave "$ROOT/dev" &&
	mount -t tmpfs tmpfs "$ROOT/run"
}

# Stop what is left of our run inside the root (each by pid: processes
# whose root directory is ours), then unmount.
umount_all() {
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && kill -9 "${p#/proc/}" 2>/dev/null
	done
	sleep 0.5
	for m in run dev sys proc; do
		mountpoint -q "$ROOT/$m" && umount -R "$ROOT/$m" 2>/dev/null
	done
	mounted && for m in run dev sys proc; do umount -R -l "$ROOT/$m" 2>/dev/null; done
	! mounted
}

remove_root() {
	[ -d "$ROOT" ] || return 0
	umount_all || die "$ROOT still has mounts; not removing it"
	rm -rf --one-file-system "$ROOT"
}

cleanup() {
	umount_all || echo "check-fresh: could not unmount everything under $ROOT" >&2
	[ "${FRESH_KEEP:-0}" = 1 ] || remove_root
}

remove_root
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "check-fresh: debootstrap --variant=minbase bookworm $ROOT"
start=$(date +%s)
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >"$B/check-fresh-debootstrap.log" 2>&1 ||
	{ tail -n 20 "$B/check-fresh-debootstrap.log"; die "debootstrap failed"; }
echo "check-fresh: root built in $(( $(date +%s) - start ))s"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
git -C "$top" bundle create "$ROOT/root/antfarm.bundle" HEAD 2>/dev/null ||
	die "git bundle failed"
mount_all || die "mounting proc, sys, dev in the root failed"

# Each step as the README says it; the repository URL becomes the bundle.
script=$(printf 'set -ex\ncd /root\n%s\n%s\n' \
	"$(echo "$src" | sed 's|<repository-url>|/root/antfarm.bundle|g')" "$cmds")
echo "check-fresh: running in the root:"
echo "$script" | sed 's/^/    /'
start=$(date +%s)
chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/bin/sh -c "$script" 2>&1 | tee "$B/check-fresh.log"
rc=$(tail -n 1 "$B/check-fresh.log" | grep -c ' passed, 0 failed')
echo "check-fresh: the README's steps took $(( $(date +%s) - start ))s; log in $B/check-fresh.log"
if [ "$rc" = 1 ]; then
	echo "check-fresh: PASS"
	exit 0
fi
echo "check-fresh: FAIL"
exit 1
