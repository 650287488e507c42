#!/usr/bin/env python3
"""Side-by-side SGEMM table for bench/RESULTS.md: runs `nanombpo bench gemm --suite` (1 and 2
threads) and bench/anchors.py in alternation for several rounds, keeps each cell's best GFLOP/s
(the 2-core machine is shared, so the best of several runs is the least disturbed one) and prints a
markdown table with ratios.

Build first: dotnet build -c Release src/NanoMbpo.Trainer
Run:  python3 bench/compare.py [--rounds 2] [--seconds 0.3] [--only SUBSTR] [--nanombpo PATH] [--rt] [--hugepages]
--rt runs every measurement under `chrt -f 10` (SCHED_FIFO) so other processes cannot preempt it.
--hugepages gives our operands transparent huge pages, as numpy gives the anchor's arrays of 4 MiB and more.
"""
import argparse, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

def run(cmd, rt):
    cmd = (["chrt", "-f", "10"] if rt else []) + cmd
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=0.3)
    ap.add_argument("--only", default="")
    ap.add_argument("--nanombpo", default=os.path.join(REPO, "src", "NanoMbpo.Trainer", "bin", "Release", "net10.0", "nanombpo"))
    ap.add_argument("--rt", action="store_true")
    ap.add_argument("--hugepages", action="store_true")
    args = ap.parse_args()
    best, shapes, header = {}, {}, ""
    def keep(name, col, g):
        best.setdefault(name, {})[col] = max(best.get(name, {}).get(col, 0.0), g)
    for r in range(args.rounds):
        for t in (1, 2):
            out = run([args.nanombpo, "bench", "gemm", "--suite", "--threads", str(t), "--seconds", str(args.seconds)] + (["--hugepages"] if args.hugepages else []), args.rt)
            for line in out.splitlines():
                f = line.split()
                if len(f) == 7 and f[-1] == "GFLOP/s" and (not args.only or args.only in f[0]):
                    shapes[f[0]] = f[1:5]; keep(f[0], f"ours{t}", float(f[5]))
        out = run([sys.executable, os.path.join(HERE, "anchors.py"), "--seconds", str(args.seconds), "--only", args.only], args.rt)
        for line in out.splitlines():
            f = line.split()
            if line.startswith("#"): header = line
            elif len(f) == 9 and f[-1] == "GFLOP/s" and f[0] != "shape":
                for col, v in zip(("numpy2", "numpy1", "torch1"), f[5:8]): keep(f[0], col, float(v))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    print(header)
    print("| shape | M | N | K | op | ours 2T | OpenBLAS 2T | ratio 2T | ours 1T | OpenBLAS 1T | ratio 1T | ours 2T / OpenBLAS 1T | PyTorch 1T |")
    print("|---|---:|---:|---:|:-:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, (m, n, k, op) in shapes.items():
        b = best[name]; g = lambda c: b.get(c, float("nan"))
        print(f"| {name} | {m} | {n} | {k} | {op} | {g('ours2'):.1f} | {g('numpy2'):.1f} | {g('ours2') / g('numpy2'):.2f} | "
              f"{g('ours1'):.1f} | {g('numpy1'):.1f} | {g('ours1') / g('numpy1'):.2f} | {g('ours2') / g('numpy1'):.2f} | {g('torch1'):.1f} |")

if __name__ == "__main__":
    main()
