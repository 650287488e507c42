#!/usr/bin/env python3
"""PyTorch CPU anchor for `nanombpo bench mlp`: MLP 64-256-256-16 (ReLU), batch 256, forward + MSE
backward + Adam step, the same workload, measured in steps/s.

Run with Debian's python3-torch (the system python3): `python3 bench/mlp_anchor.py [--threads 1]`.
PyTorch uses 1 intra-op thread by default here, as the issue's anchor does; the last line states the
figure. Inputs cycle through 16 fixed noise batches, as the C# benchmark does.
"""
import argparse, time
import torch

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 16))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xs = [torch.randn(256, 64) for _ in range(16)]
    ys = [torch.randn(256, 16) for _ in range(16)]

    def step(i):
        opt.zero_grad(set_to_none=False)
        loss = torch.nn.functional.mse_loss(net(xs[i % 16]), ys[i % 16])
        loss.backward()
        opt.step()
        return loss

    for i in range(a.warmup):
        step(i)
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for i in range(a.steps):
            step(i)
        best = max(best, a.steps / (time.perf_counter() - t0))
    print(f"pytorch {torch.__version__} mlp 64-256-256-16 batch 256 adam, {a.threads} intra-op thread(s): {best:.0f} steps/s")

if __name__ == "__main__":
    main()
