#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The man pages in dist/man cannot drift from the programs: each page's
OPTIONS (and, for antfarm(1), COMMANDS) name exactly the options (commands)
that the program's --help lists, and `man -l` renders every page without a
warning."""

import os
import re
import shutil
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ANTFARM_BUILD", "build")
PAGES = [("antfarm-agent", "antfarm-agent.8"), ("antfarm", "antfarm.1"),
         ("antfarm-blk", "antfarm-blk.8")]
OPT = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])")
failures = []


def check(cond, name, detail=""):
    if not cond:
        failures.append(name)
        print("FAIL %s%s" % (name, ": " + str(detail) if detail else ""), flush=True)


def help_sections(text):
    """--help text -> {SECTION: [lines]} (sections are unindented capitals)."""
    out, cur = {}, None
    for line in text.splitlines():
        if re.fullmatch(r"[A-Z][A-Z ]+", line):
            cur = out.setdefault(line, [])
        elif cur is not None:
            cur.append(line)
    return out


def help_options(lines):
    """Options defined in an OPTIONS section: the lines that start (after
    the indent) with a dash; the definition ends at two spaces."""
    opts = set()
    for line in lines:
        s = line.strip()
        if s.startswith("-"):
            opts |= set(OPT.findall(re.split(r"\s{2,}", s)[0]))
    return opts


def help_commands(lines):
    """Commands: lines indented by four spaces whose first word is lower case."""
    return {m.group(1) for l in lines for m in [re.match(r"    ([a-z]+)(\s|$)", l)] if m}


def roff_sections(text):
    out, cur = {}, None
    for line in text.splitlines():
        if line.startswith(".SH "):
            cur = out.setdefault(line[4:].strip().strip('"'), [])
        elif cur is not None:
            cur.append(line)
    return out


def unroff(s):
    s = re.sub(r"\\f[BIRP]", "", s).replace("\\-", "-").replace("\\e", "\\")
    return re.sub(r"^\.(BR|BI|IR|RB|B|I)\s+", "", s).replace('"', "")


def roff_tags(lines):
    """The tag lines of .TP items (the line after each .TP)."""
    return [unroff(lines[i + 1]) for i, l in enumerate(lines[:-1]) if l.strip() == ".TP"]


def main():
    for prog, page in PAGES:
        exe = os.path.join(BUILD, prog)
        if not os.path.exists(exe):
            print("skip: %s not built" % exe)
            return 77
        r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
        check(r.returncode == 0, "%s --help" % prog, r.stderr)
        hs = help_sections(r.stdout)
        with open(os.path.join(TOP, "dist", "man", page)) as f:
            ms = roff_sections(f.read())
        want = help_options(hs.get("OPTIONS", []))
        have = set()
        for tag in roff_tags(ms.get("OPTIONS", [])):
            have |= set(OPT.findall(tag))
        check(want and have == want, "%s: OPTIONS of %s and --help" % (prog, page),
              "only in --help: %s; only in the page: %s" %
              (sorted(want - have), sorted(have - want)))
        if "COMMANDS" in hs:
            want = help_commands(hs["COMMANDS"])
            have = {t.split()[0] for t in roff_tags(ms.get("COMMANDS", []))}
            check(want and have == want, "%s: COMMANDS of %s and --help" % (prog, page),
                  "only in --help: %s; only in the page: %s" %
                  (sorted(want - have), sorted(have - want)))
        check(prog in " ".join(ms.get("NAME", [])), "%s: NAME" % page)
    if shutil.which("man"):
        for _, page in PAGES:
            path = os.path.join(TOP, "dist", "man", page)
            r = subprocess.run(["man", "--warnings", "-l", path], capture_output=True,
                               text=True, timeout=30,
                               env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"))
            check(r.returncode == 0 and not r.stderr.strip() and "SYNOPSIS" in r.stdout,
                  "man -l %s renders without warnings" % page, r.stderr[-2000:])
    else:
        print("note: man missing: pages not rendered")
    if failures:
        print("%d failed: %s" % (len(failures), ", ".join(failures)))
        return 1
    print("%d man pages match --help" % len(PAGES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
