#!/usr/bin/env python3
"""SGEMM anchors for bench/RESULTS.md: numpy/OpenBLAS (2 threads and 1 thread) and PyTorch CPU
(1 intra-op thread) on the same shapes as `nanombpo bench gemm --suite`, printing GFLOP/s.

Run with Debian's python3 (python3-numpy, python3-torch from apt):  python3 bench/anchors.py [--seconds S] [--only SUBSTR]
OpenBLAS is told its core type (Debian's 0.3.21 misdetects recent CPUs): SkylakeX where the CPU has
AVX-512, else Zen on AMD, else Haswell; set OPENBLAS_CORETYPE yourself to override. Each backend runs
in its own subprocess because thread counts must be fixed before numpy/torch load. Timings are the
best of many ~1 ms batches, as in the C# bench, because the 2-core machine is shared.
"""
import argparse, os, subprocess, sys, time

def shapes():
    s = [(f"cube{n}", n, n, n, False, False) for n in (256, 512, 1024, 2048)]
    s += [("bert_qkvo", 256, 768, 768, False, False), ("bert_ffn1", 256, 3072, 768, False, False), ("bert_ffn2", 256, 768, 3072, False, False)]
    for tag, m, n, k in [("mlp_256x256x64", 256, 256, 64), ("mlp_256x256x256", 256, 256, 256), ("mlp_256x16x256", 256, 16, 256),
                         ("mlp_256x64x256", 256, 64, 256), ("mlp_256x256x16", 256, 256, 16), ("mlp_16x256x256", 16, 256, 256), ("mlp_64x256x256", 64, 256, 256)]:
        for ta, tb in [(False, False), (False, True), (True, False), (True, True)]:
            s.append((f"{tag}_{'T' if ta else 'N'}{'T' if tb else 'N'}", m, n, k, ta, tb))
    return s

def coretype():
    if os.environ.get("OPENBLAS_CORETYPE"):
        return os.environ["OPENBLAS_CORETYPE"]
    flags, vendor = "", ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags") and not flags: flags = line
                if line.startswith("vendor_id") and not vendor: vendor = line
    except OSError:
        pass
    if " avx512f" in flags: return "SkylakeX"
    if "AMD" in vendor and " avx2" in flags: return "Zen"
    return "Haswell"

def measure(mm, seconds):
    """Best seconds per call over ~1 ms batches after a warm-up."""
    t0 = time.perf_counter(); calls = 0
    while time.perf_counter() - t0 < 0.2 or calls < 3:
        mm(); calls += 1
    per = max(1, int(calls / (time.perf_counter() - t0) * 0.001))
    best = float("inf"); end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        for _ in range(per): mm()
        best = min(best, (time.perf_counter() - t) / per)
    return best

def child(backend, seconds, only):
    import numpy as np
    rng = np.random.default_rng(1)
    if backend == "torch":
        import torch
        torch.set_num_threads(1)
    for name, m, n, k, ta, tb in shapes():
        if only and only not in name: continue
        a_st = rng.random((k, m) if ta else (m, k), dtype=np.float32) - 0.5
        b_st = rng.random((n, k) if tb else (k, n), dtype=np.float32) - 0.5
        c = np.empty((m, n), dtype=np.float32)
        if backend == "torch":
            a, b, ct = torch.from_numpy(a_st), torch.from_numpy(b_st), torch.from_numpy(c)
            a = a.t() if ta else a; b = b.t() if tb else b
            mm = lambda: torch.mm(a, b, out=ct)
        else:
            a = a_st.T if ta else a_st; b = b_st.T if tb else b_st
            mm = lambda: np.matmul(a, b, out=c)
        best = measure(mm, seconds)
        print(f"{name} {2.0 * m * n * k / best / 1e9:.1f}", flush=True)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--only", default="")
    ap.add_argument("--child", default="")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.seconds, args.only); return
    ct = coretype()
    runs = [("numpy2", "numpy", {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}),
            ("numpy1", "numpy", {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}),
            ("torch1", "torch", {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})]
    results = {}
    for label, backend, extra in runs:
        env = dict(os.environ, OPENBLAS_CORETYPE=ct, **extra)
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", backend, "--seconds", str(args.seconds), "--only", args.only],
                             env=env, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"# {label} failed (rc {out.returncode}): {out.stderr.strip()[-300:]}")
            continue
        for line in out.stdout.split("\n"):
            if line.strip():
                name, g = line.split(); results.setdefault(name, {})[label] = float(g)
    print(f"# OPENBLAS_CORETYPE={ct}; numpy2 = OpenBLAS 2 threads, numpy1 = 1 thread, torch1 = PyTorch 1 intra-op thread")
    print(f"{'shape':<24} {'M':>5} {'N':>5} {'K':>5} op {'numpy2':>8} {'numpy1':>8} {'torch1':>8}  GFLOP/s")
    for name, m, n, k, ta, tb in shapes():
        if name not in results: continue
        r = results[name]
        cells = " ".join(f"{r.get(l, float('nan')):8.1f}" for l in ("numpy2", "numpy1", "torch1"))
        print(f"{name:<24} {m:5} {n:5} {k:5} {'T' if ta else 'N'}{'T' if tb else 'N'} {cells}  GFLOP/s")

if __name__ == "__main__":
    main()
