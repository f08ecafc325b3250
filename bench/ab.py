"""ab.py: the figures of bench/ab.sh from its results file (not a test).

  ab.py agreed RESULTS PATH AGREE ROUNDS
                                       exit 0 when, for every wall-clock
                                       figure of PATH, the last two runs
                                       (ROUNDS rounds each; a run's figure
                                       is the median of its ratios NEW/OLD)
                                       differ by <= AGREE %
  ab.py table RESULTS OLDNAME OLD NEWNAME NEW AGREE ROUNDS SIZE DRTT DMIB
                                       print the tables
  ab.py bisect RESULTS PATH PCT        exit 1 when NEW's instructions per
                                       round trip exceed OLD's by > PCT %

RESULTS lines (written by ab.sh):
  instr BUILD PATH LIFE ROLE COUNT     callgrind's total of one daemon
  sys BUILD PATH LIFE ROLE COUNT NAME  its system calls of one name
  wall BUILD PATH ROUND P50 P99 GBITS CPU_S_PER_GB
BUILD is old or new; LIFE base, rtt or bulk (the figures are rtt - base
and bulk - base).
"""
import statistics
import sys

ROLE_NAMES = {"in": "inlet", "out": "outlet", "hub": "relay", "all": "all"}
WALL_NAMES = ["RTT p50 us", "RTT p99 us", "1 stream Gbit/s", "CPU s/GB"]


def load(path):
    ins, sysc, wall = {}, {}, {}
    for line in open(path):
        f = line.split()
        if f[0] == "instr":
            ins.setdefault((f[1], f[2], f[3]), {})[f[4]] = int(f[5])
        elif f[0] == "sys":
            d = sysc.setdefault((f[1], f[2], f[3]), {})
            d[f[6]] = d.get(f[6], 0) + int(f[5])
        elif f[0] == "wall":
            wall.setdefault((f[2], int(f[3])), {})[f[1]] = \
                [float(x) for x in f[4:8]]
    return ins, sysc, wall


def rounds(wall, path):
    """The complete rounds of ${path}, in order: [{old: [...], new: [...]}]"""
    return [wall[k] for k in sorted(wall) if k[0] == path and
            len(wall[k]) == 2]


def ratios(rs, i):
    return [r["new"][i] / r["old"][i] for r in rs]


def agree(a, b, pct):
    return abs(a - b) <= pct / 100 * max(a, b)


def runs(rs, i, per_run):
    """The median ratio NEW/OLD of figure ${i} in each whole run."""
    r = ratios(rs, i)
    return [statistics.median(r[j:j + per_run])
            for j in range(0, len(r) - per_run + 1, per_run)]


def cmd_agreed(res, path, pct, per_run):
    rs = rounds(load(res)[2], path)
    for i in range(len(WALL_NAMES)):
        m = runs(rs, i, per_run)
        if len(m) < 2 or not agree(m[-2], m[-1], pct):
            return 1
    return 0


def per(ins, b, path, what, role, div):
    """(${what} life - base life) / ${div} for ${role} (or all), or None."""
    try:
        base, big = ins[(b, path, "base")], ins[(b, path, what)]
    except KeyError:
        return None
    if role == "all":
        return (sum(big.values()) - sum(base.values())) / div
    return (big[role] - base[role]) / div


def cmd_table(res, oname, old, nname, new, pct, per_run, size, drtt, dmib):
    ins, sysc, wall = load(res)
    print("OLD %s (%s)\nNEW %s (%s)" % (oname, old[:10], nname, new[:10]))
    gb = dmib * 1048576 / 1e9
    figures = (("rtt", "per round trip", drtt),) + \
        ((("bulk", "per GB", gb),) if dmib > 0 else ())
    row = "%-7s %-26s %14s %14s %8s"
    if ins:
        print("\nInstructions (callgrind, user space of the tunnel "
              "processes; differences of lives: %d round trips of %s "
              "bytes%s)" % (drtt, size, ", %d MiB one way" % dmib
                            if dmib > 0 else ""))
        print(row % ("path", "figure", "OLD", "NEW", "NEW/OLD"))
    for path in ("direct", "relay"):
        if ("old", path, "base") not in ins:
            continue
        roles = sorted(ins[("old", path, "base")]) + ["all"]
        for what, name, div in figures:
            for r in roles:
                o = per(ins, "old", path, what, r, div)
                n = per(ins, "new", path, what, r, div)
                if o is None or n is None:
                    continue
                print(row % (path, "%s %s" % (ROLE_NAMES[r], name),
                             "{:,.0f}".format(o), "{:,.0f}".format(n),
                             "%.3f" % (n / o)))
    if sysc:
        print("\nSystem calls (valgrind --trace-syscalls, all the tunnel "
              "processes, the same lives; clock reads show as gettimeofday "
              "under valgrind, natively they are vDSO calls)")
        print(row % ("path", "figure", "OLD", "NEW", "NEW/OLD"))
    for path in ("direct", "relay"):
        if ("old", path, "base") not in sysc:
            continue
        for what, name, div in figures:
            v = {}
            for b in ("old", "new"):
                base = sysc.get((b, path, "base"), {})
                big = sysc.get((b, path, what), {})
                if not big:
                    break
                v[b] = {k: (big.get(k, 0) - base.get(k, 0)) / div
                        for k in set(big) | set(base)}
            if len(v) < 2:
                continue
            o, n = sum(v["old"].values()), sum(v["new"].values())
            print(row % (path, "all " + name, "%.2f" % o, "%.2f" % n,
                         "%.3f" % (n / o) if o else "-"))
            # The names that differ by 2 % and 10 calls or more.
            for k in sorted(set(v["old"]) | set(v["new"])):
                a, b = v["old"].get(k, 0), v["new"].get(k, 0)
                if abs(a - b) > 0.02 * max(a, b) and abs(a - b) * div >= 10:
                    print(row % ("", "  " + k, "%.2f" % a, "%.2f" % b, ""))
    for path in ("direct", "relay"):
        rs = rounds(wall, path)
        if not rs:
            continue
        print("\nWall clock, %s (%d rounds OLD NEW alternating, in runs "
              "of %d; medians; NEW/OLD: median of the rounds' ratios, "
              "spread min-max over rounds)" % (path, len(rs), per_run))
        print("%-16s %9s %9s %8s %13s  %s" % (
            "figure", "OLD", "NEW", "NEW/OLD", "spread",
            "runs' medians; two in a row agree"))
        for i, name in enumerate(WALL_NAMES):
            rat = ratios(rs, i)
            m = runs(rs, i, per_run)
            ok = len(m) >= 2 and agree(m[-2], m[-1], pct)
            fmt = "%9.1f" if i < 2 else "%9.3f"
            print(("%-16s " + fmt + " " + fmt + " %8.3f %6.3f-%-6.3f  %s: %s")
                  % (name, statistics.median(r["old"][i] for r in rs),
                     statistics.median(r["new"][i] for r in rs),
                     statistics.median(rat), min(rat), max(rat),
                     " ".join("%.3f" % x for x in m),
                     "yes (within %g%%)" % pct if ok else
                     "no: inconclusive"))
        for i, name in enumerate(WALL_NAMES):
            print("  %-16s NEW/OLD by round: %s" % (
                name, " ".join("%.3f" % x for x in ratios(rs, i))))
    return 0


def cmd_bisect(res, path, pct):
    ins = load(res)[0]
    o = per(ins, "old", path, "rtt", "all", 1)
    n = per(ins, "new", path, "rtt", "all", 1)
    print("bisect: NEW/OLD instructions per round trip %.4f (bad above "
          "%.4f)" % (n / o, 1 + pct / 100))
    return 1 if n > o * (1 + pct / 100) else 0


def main(argv):
    if len(argv) == 6 and argv[1] == "agreed":
        return cmd_agreed(argv[2], argv[3], float(argv[4]), int(argv[5]))
    if len(argv) == 12 and argv[1] == "table":
        return cmd_table(argv[2], argv[3], argv[4], argv[5], argv[6],
                         float(argv[7]), int(argv[8]), argv[9],
                         int(argv[10]), int(argv[11]))
    if len(argv) == 5 and argv[1] == "bisect":
        return cmd_bisect(argv[2], argv[3], float(argv[4]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
