#!/usr/bin/env python3
"""docsnippets.py: the configuration snippets of the documentation, one file
each, for tests/integration/03-doc-snippets.sh.

Usage: docsnippets.py OUTDIR FILE.md...
       docsnippets.py --complete SNIPPET OUT [PEER=ID|AUTH:NAME=ID]...

A snippet is a fenced block marked ```ini, or an indented (4 spaces) block
whose first line is a section of a node's configuration ([node], [peers],
[authorities], [outlet NAME], [inlet NAME], [relay NAME], [authority
NAME]; not systemd's
[Service] and the like).  Blocks laid out side by side (a first line of
';' comments, one per column) are cut into their columns at the columns
of those ';'.  Inside a block, a full-line comment after an empty line
starts another snippet (several nodes' files shown together).

Each snippet is written to OUTDIR/NNN.ini as it stands, with its origin
(FILE:LINE) in OUTDIR/NNN.from.

--complete makes a snippet a file `check` can read, changing nothing the
snippet says but what only exists on the documentation's machine: a
[node] section when it has none (with a listen address); the node's key, credential and revoked
files (from the environment: SNIP_KEY, SNIP_CRED, SNIP_REVOKED), an
[authority NAME]'s key and store (SNIP_CA_KEY, SNIP_STORE); `user`
(SNIP_USER, or dropped when SNIP_USER is empty) and `allow_root = yes`
when SNIP_ROOT is 1 and the snippet names no user; a placeholder
identifier (I..., Icorp...: an I, letters or digits, then "...") becomes
the next of SNIP_IDS, or SNIP_CA in [authorities]; PEER=ID and
AUTH:NAME=ID arguments add a peer or an authority the snippet refers to
without defining it (its surrounding text defines it).
"""
import os
import re
import sys

SECTION = re.compile(
    r"^\[(node|peers|authorities|(outlet|inlet|relay|authority) [^\]]+)\]")


def blocks(path):
    """(first line number, lines) of each candidate block of ${path}."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```ini":
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            yield i + 2, lines[i + 1:j]
            i = j + 1
            continue
        if (lines[i].startswith("    ") and
                (i == 0 or lines[i - 1].strip() == "") and
                (SECTION.match(lines[i][4:]) or
                 lines[i][4:].startswith(("#", ";")))):
            j = i
            body = []
            while j < len(lines) and (lines[j].startswith("    ") or
                                      lines[j].strip() == ""):
                body.append(lines[j][4:])
                j += 1
            while body and body[-1].strip() == "":
                body.pop()
            if any(SECTION.match(b) for b in body):
                yield i + 1, body
            i = j
            continue
        i += 1


def columns(body):
    """The block cut into its side-by-side columns, or [body]."""
    first = body[0] if body else ""
    starts = [m.start() for m in re.finditer(r"(?:^|\s{2,});", first)]
    starts = [first.index(";", s) for s in starts]
    if not first.startswith(";") or len(starts) < 2:
        return [body]
    cols = []
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else None
        cols.append([(ln[s:e] if e is not None else ln[s:]).rstrip()
                     for ln in body])
    return cols


def split_files(body):
    """A block holding several files: cut before a comment line that
    follows an empty line."""
    out, cur = [], []
    for k, ln in enumerate(body):
        if (ln.startswith(("#", ";")) and k > 0 and
                body[k - 1].strip() == "" and
                any(SECTION.match(c) for c in cur)):
            out.append(cur)
            cur = []
        cur.append(ln)
    out.append(cur)
    return [c for c in out if any(SECTION.match(x) for x in c)]


def complete(src, dst, extra):
    """See the --complete paragraph above."""
    env = os.environ
    ids = env.get("SNIP_IDS", "").split()
    lines = open(src, encoding="utf-8").read().rstrip("\n").split("\n")
    if not any(ln.strip() == "[node]" for ln in lines):
        lines = ["[node]", "identity = x", "listen = 127.0.0.1:7400"] + lines
    out, section, has_user = [], "", False
    node_keys = {"identity": "SNIP_KEY", "credential": "SNIP_CRED",
                 "revoked": "SNIP_REVOKED"}
    authority_keys = {"key": "SNIP_CA_KEY", "store": "SNIP_STORE"}
    for ln in lines:
        m = re.match(r"^\[([^\]]+)\]", ln)
        if m:
            section = m.group(1)
        kv = re.match(r"^(\w+)\s*=", ln)
        paths = node_keys if section == "node" else \
            authority_keys if section.startswith("authority ") else {}
        if kv and kv.group(1) in paths:
            # Only the path: what follows it stays, as the parser
            # reads it (a "# comment" after a value is part of it).
            ln = re.sub(r"^(\w+\s*=\s*)\S+",
                        lambda m: m.group(1) + env[paths[kv.group(1)]],
                        ln)
        elif section == "node" and kv and kv.group(1) == "user":
            has_user = True
            if not env.get("SNIP_USER"):
                continue
            ln = "user = %s" % env["SNIP_USER"]

        def repl(_m):
            if section == "authorities":
                return env["SNIP_CA"]
            return ids.pop(0)
        ln = re.sub(r"\bI[0-9a-z]*\.\.\.", repl, ln)
        out.append(ln)
        if ln.strip() == "[node]" and env.get("SNIP_ROOT") == "1":
            out.append("@ROOT@")
    root = [] if has_user and env.get("SNIP_USER") else ["allow_root = yes"]
    out = [x for ln in out for x in (root if ln == "@ROOT@" else [ln])]
    for arg in extra:
        kind, what = ("authorities", arg[5:]) if arg.startswith("AUTH:") \
            else ("peers", arg)
        if ("[%s]" % kind) not in out:
            out += ["", "[%s]" % kind]
        out.insert(out.index("[%s]" % kind) + 1, what)
    with open(dst, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def main():
    if sys.argv[1] == "--complete":
        complete(sys.argv[2], sys.argv[3], sys.argv[4:])
        return
    outdir, files = sys.argv[1], sys.argv[2:]
    n = 0
    for path in files:
        for line, body in blocks(path):
            for col in columns(body):
                for snip in split_files(col):
                    n += 1
                    base = os.path.join(outdir, "%03d" % n)
                    with open(base + ".ini", "w", encoding="utf-8") as f:
                        f.write("\n".join(snip) + "\n")
                    with open(base + ".from", "w", encoding="utf-8") as f:
                        f.write("%s:%d\n" % (os.path.basename(path), line))
    print(n)


if __name__ == "__main__":
    main()
