# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Run a systemd unit's ExecStart= the way systemd would, without systemd:
its EnvironmentFile=, the %t/%i specifiers, $VAR and ${VAR}, its
RuntimeDirectory= (mode), UMask=, Group=, LimitMEMLOCK=,
CapabilityBoundingSet= and NoNewPrivileges=.  Paths are made private: %t is
a temporary directory and /etc/antfarm/ is mapped to one."""

import grp
import os
import re
import resource
import shlex
import subprocess

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT_DIR = os.path.join(TOP, "dist", "systemd")


def render(name, sbindir, etc=None):
    """The unit file's text as make install writes it, with @SBINDIR@ =
    sbindir and (for tests) /etc/antfarm/ moved to etc."""
    with open(os.path.join(UNIT_DIR, name + ".in")) as f:
        text = f.read().replace("@SBINDIR@", sbindir)
    if etc:
        text = text.replace("/etc/antfarm/", etc.rstrip("/") + "/")
    return text


def settings(text):
    """[Service] settings: key -> list of values (continuation lines joined)."""
    out, section = {}, None
    text = re.sub(r"\\\n\s*", " ", text)
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def read_env(path):
    """An EnvironmentFile= of the simple form the units document:
    KEY=VALUE lines, # comments, optional quotes around VALUE."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            k, v = line.split("=", 1)
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
                v = v[1:-1]
            env[k.strip()] = v
    return env


def expand(cmdline, spec, env):
    """systemd's rules for ExecStart=: %x specifiers, ${VAR} as one word,
    $VAR split on white space."""
    words = []
    for w in shlex.split(cmdline):
        for k, v in spec.items():
            w = w.replace("%" + k, v)
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", w)
        if m:
            words += env.get(m.group(1), "").split()
            continue
        words.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                            lambda m: env.get(m.group(1), ""), w))
    return words


CAPS = {"CAP_BPF": "bpf", "CAP_PERFMON": "perfmon", "CAP_SYS_ADMIN": "sys_admin",
        "CAP_SYS_RESOURCE": "sys_resource", "CAP_DAC_OVERRIDE": "dac_override",
        "CAP_NET_BIND_SERVICE": "net_bind_service", "CAP_SYS_PTRACE": "sys_ptrace"}
CAP_BITS = {"CAP_DAC_OVERRIDE": 1, "CAP_NET_BIND_SERVICE": 10, "CAP_SYS_PTRACE": 19,
            "CAP_SYS_ADMIN": 21,
            "CAP_SYS_RESOURCE": 24, "CAP_PERFMON": 38, "CAP_BPF": 39}


def cap_mask(names):
    m = 0
    for n in names:
        m |= 1 << CAP_BITS[n]
    return m


class Service:
    """One started unit.  run: the private %t; instance: %i."""

    def __init__(self, text, run, instance="", log=None):
        self.s = settings(text)
        self.run = run
        spec = {"t": run, "i": instance}
        env = {}
        for ef in self.s.get("EnvironmentFile", []):
            optional = ef.startswith("-")
            ef = expand(ef.lstrip("-"), spec, {})[0]
            if os.path.exists(ef) or not optional:
                env.update(read_env(ef))
        self.env = env
        mode = int(self.one("RuntimeDirectoryMode", "0755"), 8)
        for d in self.one("RuntimeDirectory", "").split():
            d = os.path.join(run, expand(d, spec, {})[0])
            os.makedirs(d, exist_ok=True)
            os.chmod(d, mode)
        self.caps = self.one("CapabilityBoundingSet", "").split()
        self.argv = self.wrapper() + expand(self.one("ExecStart"), spec, env)
        umask = int(self.one("UMask", "0022"), 8)
        memlock = self.one("LimitMEMLOCK", "")

        def child():
            os.umask(umask)
            if memlock == "infinity":
                try:
                    resource.setrlimit(resource.RLIMIT_MEMLOCK,
                                       (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                except ValueError:
                    # no CAP_SYS_RESOURCE here (systemd has it): as high
                    # as the hard limit goes
                    hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)[1]
                    resource.setrlimit(resource.RLIMIT_MEMLOCK, (hard, hard))
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL,
                                     stderr=log or subprocess.DEVNULL, preexec_fn=child)
        self.pid = self.proc.pid

    def one(self, key, default=None):
        v = self.s.get(key)
        if v is None:
            if default is None:
                raise KeyError(key)
            return default
        return v[-1]

    def wrapper(self):
        """setpriv for the bounding set, NoNewPrivileges and Group."""
        bound = ",".join(["-all"] + ["+" + CAPS[c] for c in self.caps])
        w = ["setpriv", "--inh-caps=-all", "--bounding-set=" + bound]
        if self.one("NoNewPrivileges", "no") == "yes":
            w.append("--no-new-privs")
        group = self.one("Group", "")
        if group:
            try:
                w += ["--regid=%d" % grp.getgrnam(group).gr_gid, "--clear-groups"]
            except KeyError:
                pass        # no such group on this host: run with root's
        return w + ["--"]

    def cap_eff(self):
        """The running process's effective capabilities (a bit mask)."""
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
