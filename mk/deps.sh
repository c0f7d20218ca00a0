#!/bin/sh
# Installs the Debian 12 packages that building and testing Antfarm needs.
# Does nothing (and needs no network) when they are all present.
#   sh mk/deps.sh               what make, make test and make demo need
#   sh mk/deps.sh check-fresh   that, and debootstrap for make check-fresh
# (prometheus is there for promtool, which checks the /metrics output;
# libjansson-dev for the reference parser of the JSON fuzz test.)
pkgs="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config
      liburing-dev qemu-system-x86 qemu-utils qemu-system-common fio
      libclang-rt-14-dev valgrind python3 procps psmisc
      man-db systemd tmux curl prometheus libjansson-dev"
[ "${1:-}" = check-fresh ] && pkgs="$pkgs debootstrap"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run as root (or: apt-get install$missing)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null
