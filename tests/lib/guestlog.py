# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The test guest's ground-truth log, as one list of (host_ns, kind, kv).

run-guest --log files have one line per guest line, prefixed with the host
CLOCK_MONOTONIC ns and a tab.  With disklog=disk the guest keeps its DISK and
DISKDONE lines in a table and writes it to the last sectors of its disk at
the end, announced by

    AF DISKLOG t=.. sector=S records=N recsize=32 lost=L status=ok

read_log(path, img) puts those records back in place of that line, as the
lines they stand for (host_ns None: the host never saw them happen).  The
record layout is tests/guest/virtio.c's struct dlog_rec (little-endian):
u64 t, u64 sector, u32 id, u16 pid, u8 cpu, q, op, n, status, flags, 4 pad.
"""
import struct

REC = struct.Struct("<QQIHBBBBBB4x")
OPS = {0: "R", 1: "W", 4: "F"}
DLOG_DONE, DLOG_KWORKER = 1, 2


def parse_line(line):
    """'[host_ns<TAB>]AF KIND k=v ...' -> (host_ns, kind, kv) or None."""
    ts = None
    if "\t" in line:
        head, line = line.split("\t", 1)
        ts = int(head) if head.isdigit() else None
    if not line.startswith("AF "):
        return None
    words = line.split()
    if len(words) < 2:
        return None
    kv = dict(w.split("=", 1) for w in words[2:] if "=" in w)
    return ts, words[1], kv


def disk_records(img, kv):
    """The (None, kind, kv) entries of a DISKLOG line's table in img."""
    n, size = int(kv["records"]), int(kv.get("recsize", REC.size))
    if size != REC.size:
        raise ValueError(f"DISKLOG recsize={size}, this parser knows {REC.size}")
    with open(img, "rb") as f:
        f.seek(int(kv["sector"]) * 512)
        data = f.read(n * size)
    if len(data) != n * size:
        raise ValueError(f"{img}: the disk log is cut short")
    out = []
    for t, sector, rid, pid, cpu, q, op, nsect, status, flags in REC.iter_unpack(data):
        if flags & DLOG_DONE:
            out.append((None, "DISKDONE", {"t": str(t), "cpu": str(cpu), "pid": str(pid),
                                           "id": str(rid), "status": str(status)}))
            continue
        e = {"t": str(t), "cpu": str(cpu), "pid": str(pid), "q": str(q),
             "op": OPS.get(op, "?"), "sector": str(sector), "n": str(nsect), "id": str(rid)}
        if flags & DLOG_KWORKER:
            e["by"] = "kworker"
        out.append((None, "DISK", e))
    return out


def read_log(path, img=None):
    """Every AF line of a log; a DISKLOG table is read from img when given
    (ValueError when the line says the dump failed or lost records)."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            e = parse_line(line.rstrip("\n"))
            if not e:
                continue
            out.append(e)
            if e[1] == "DISKLOG" and img:
                if e[2].get("status") != "ok" or e[2].get("lost") != "0":
                    raise ValueError(f"disk log incomplete: {e[2]}")
                out.extend(disk_records(img, e[2]))
    return out
