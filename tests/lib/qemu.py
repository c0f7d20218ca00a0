# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The one QEMU launcher policy of the tests, benches and the demo.

Which accelerator, and under KVM which CPU model, a test guest gets:

- KVM counts as usable only when KVM_CREATE_VM succeeds, not when /dev/kvm
  merely opens: on some hosts the device exists but KVM does not bind.
- Under KVM the CPU model is probed once, in order `host`,
  `host,-arch-capabilities`, `max,-arch-capabilities` (on kvm_pvm hosts
  QEMU 7.2 aborts at start with `-cpu host`: "failed to set MSR 0x10a"), by
  booting the test guest's `workload=boot`.  The answer is cached in the
  build directory, keyed by kernel release, QEMU version and CPU, so a test
  run probes at most once.
- Without KVM: TCG with `-cpu max`.

Also a command for shell callers:
    python3 tests/lib/qemu.py accel      # prints e.g. "kvm host,-arch-capabilities"
"""
import fcntl, json, os, platform, subprocess, sys

KVM_GET_API_VERSION = 0xAE00
KVM_CREATE_VM = 0xAE01
CPU_MODELS = ["host", "host,-arch-capabilities", "max,-arch-capabilities"]
TCG_CPU = "max"


def kvm_problem():
    """None when a VM can be created here, else why not."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return f"/dev/kvm cannot be opened ({e.strerror})"
    try:
        if fcntl.ioctl(fd, KVM_GET_API_VERSION, 0) != 12:
            return "/dev/kvm has an unexpected API version"
        vm = fcntl.ioctl(fd, KVM_CREATE_VM, 0)
        os.close(vm)
        return None
    except OSError as e:
        return f"KVM_CREATE_VM fails ({e.strerror}): KVM does not work on this host " \
               f"(see dmesg | grep -i kvm)"
    finally:
        os.close(fd)


def kvm_usable():
    return kvm_problem() is None


def _build_dir():
    return os.environ.get("ANTFARM_BUILD", "build")


def _host_key():
    qemu = subprocess.run(["qemu-system-x86_64", "--version"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True).stdout.split("\n")[0]
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return f"{platform.release()}|{qemu}|{model}"


def _boots(cpu, elf):
    cmd = ["qemu-system-x86_64", "-M", "microvm,acpi=off", "-accel", "kvm", "-cpu", cpu,
           "-nodefaults", "-no-user-config", "-nographic", "-m", "64", "-kernel", elf,
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-append", "workload=boot cpus=1"]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
    except subprocess.TimeoutExpired:
        return False, "timed out"
    # isa-debug-exit: QEMU exits (code << 1) | 1; the guest's code 0 is success
    return p.returncode == 1, p.stdout.decode(errors="replace").strip()[-300:]


def kvm_cpu(elf=None):
    """The CPU model QEMU boots the test guest with under KVM here, and
    whether it was probed now (False: from the cache).  Raises RuntimeError
    when no model boots."""
    elf = elf or os.path.join(_build_dir(), "tests/guest/guest.elf")
    cache = os.path.join(_build_dir(), "qemu-kvm-cpu.json")
    key = _host_key()
    try:
        with open(cache) as f:
            c = json.load(f)
        if c.get("key") == key and c.get("cpu") in CPU_MODELS:
            return c["cpu"], False
    except (OSError, ValueError):
        pass
    why = []
    for cpu in CPU_MODELS:
        ok, out = _boots(cpu, elf)
        if ok:
            try:
                with open(cache + ".tmp", "w") as f:
                    json.dump({"key": key, "cpu": cpu}, f)
                os.replace(cache + ".tmp", cache)
            except OSError:
                pass
            return cpu, True
        why.append(f"-cpu {cpu}: {out.splitlines()[-1] if out else 'no output'}")
    raise RuntimeError("no CPU model boots under KVM here: " + "; ".join(why))


def accel(want="auto", elf=None):
    """(accel, cpu, note) for a QEMU run.  want: auto, kvm or tcg."""
    if want == "tcg":
        return "tcg", TCG_CPU, "tcg requested"
    why = kvm_problem()
    if why:
        if want == "kvm":
            raise RuntimeError(f"-accel kvm requested but {why}")
        return "tcg", TCG_CPU, why
    cpu, probed = kvm_cpu(elf)
    return "kvm", cpu, "probed" if probed else "cached"


if __name__ == "__main__":
    if sys.argv[1:] != ["accel"]:
        sys.exit("usage: qemu.py accel")
    try:
        a, cpu, note = accel()
    except RuntimeError as e:
        sys.exit(f"qemu.py: {e}")
    print(a, cpu)
    print(f"qemu.py: {a} -cpu {cpu} ({note})", file=sys.stderr)
