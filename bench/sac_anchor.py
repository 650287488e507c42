#!/usr/bin/env python3
"""PyTorch CPU anchors for `nanombpo bench sac` and `nanombpo bench world-model`.

sac: the discrete-SAC update of src/NanoMbpo.Rl/SacDiscrete.cs, op for op: 64-dim state, 16 actions,
ReLU MLPs 64-256-256-16 (actor, twin critics, twin targets), batch 256 sampled from a 100k buffer of
seeded random transitions; α step (SB3 form), critic target with the exact expectation over actions,
½ Σ MSE critic loss, actor loss Σ_a π(α log π − min Q) with Q from the updated critics under no_grad,
Adam(3e-4) on each, Polyak τ = 0.005 (torch._foreach ops).
world-model: one training step of the 7-member probabilistic ensemble (4 SiLU layers of 200, batched
torch.bmm per layer as the C# EnsembleLinear does, learned log-variance bounds, Gaussian NLL + bound
penalty + per-layer L2), batch 256 per member, Pendulum shapes (in 4, out 2·4).

Run with Debian's python3-torch: `/usr/bin/python3 bench/sac_anchor.py sac --threads 1` (and 2).
Protocol as the C# command: warm-up, then the best of --rounds timed runs; the last line is the rate.
"""
import argparse, math, os, sys, time

# Debian's torch calls the system BLAS (OpenBLAS once libopenblas0 is installed), whose own thread
# pool ignores torch.set_num_threads: give it the same count before torch loads.
_t = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
os.environ.setdefault("OPENBLAS_NUM_THREADS", _t)
os.environ.setdefault("OMP_NUM_THREADS", _t)
import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(i, o):
    return nn.Sequential(nn.Linear(i, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, o))


def sac_workload():
    S, A, B, N = 64, 16, 256, 100_000
    g = torch.Generator().manual_seed(1)
    obs, nxt = torch.randn(N, S, generator=g), torch.randn(N, S, generator=g)
    act = torch.randint(0, A, (N,), generator=g)
    rew, done = torch.randn(N, generator=g), (torch.rand(N, generator=g) < 0.01).float()
    actor, q1, q2 = mlp(S, A), mlp(S, A), mlp(S, A)
    q1t, q2t = mlp(S, A), mlp(S, A)
    q1t.load_state_dict(q1.state_dict()); q2t.load_state_dict(q2.state_dict())
    log_alpha = torch.zeros(1, requires_grad=True)
    a_opt = torch.optim.Adam(actor.parameters(), lr=3e-4)
    q_opt = torch.optim.Adam(list(q1.parameters()) + list(q2.parameters()), lr=3e-4)
    al_opt = torch.optim.Adam([log_alpha], lr=3e-4)
    target_entropy = 0.3 * math.log(A)
    tparams, sparams = list(q1t.parameters()) + list(q2t.parameters()), list(q1.parameters()) + list(q2.parameters())

    def step():
        idx = torch.randint(0, N, (B,), generator=g)
        s, a, r, s2, d = obs[idx], act[idx], rew[idx], nxt[idx], done[idx]
        alpha = log_alpha.exp().item()
        logits = actor(s)
        probs, logp = F.softmax(logits, -1), F.log_softmax(logits, -1)
        entropy = -(probs * logp).sum(-1).mean().detach()
        al_opt.zero_grad()
        (-(log_alpha * (-entropy + target_entropy))).backward()
        al_opt.step()
        with torch.no_grad():
            l2 = actor(s2)
            v = (F.softmax(l2, -1) * (torch.min(q1t(s2), q2t(s2)) - alpha * F.log_softmax(l2, -1))).sum(-1)
            target = r + (1 - d) * 0.99 * v
        q_loss = 0.5 * (F.mse_loss(q1(s).gather(1, a[:, None]).squeeze(1), target) + F.mse_loss(q2(s).gather(1, a[:, None]).squeeze(1), target))
        q_opt.zero_grad(); q_loss.backward(); q_opt.step()
        with torch.no_grad():
            min_q = torch.min(q1(s), q2(s))
        actor_loss = (probs * (alpha * logp - min_q)).sum(-1).mean()
        a_opt.zero_grad(); actor_loss.backward(); a_opt.step()
        with torch.no_grad():
            torch._foreach_mul_(tparams, 1 - 0.005)
            torch._foreach_add_(tparams, sparams, alpha=0.005)
        return q_loss.item()
    return step


def wm_workload():
    E, B, I, O, H = 7, 256, 4, 4, 200
    g = torch.Generator().manual_seed(1)
    sizes = [I, H, H, H, H, 2 * O]
    Ws = [torch.empty(E, sizes[i], sizes[i + 1]).uniform_(-1 / math.sqrt(sizes[i]), 1 / math.sqrt(sizes[i]), generator=g).requires_grad_() for i in range(5)]
    bs = [torch.zeros(E, 1, sizes[i + 1], requires_grad=True) for i in range(5)]
    max_lv = torch.full((O,), 0.5, requires_grad=True)
    min_lv = torch.full((O,), -10.0, requires_grad=True)
    wd = [2.5e-5, 5e-5, 7.5e-5, 7.5e-5, 1e-4]
    opt = torch.optim.Adam(Ws + bs + [max_lv, min_lv], lr=1e-3)
    xs = [torch.randn(E, B, I, generator=g) for _ in range(16)]
    ys = [torch.randn(E, B, O, generator=g) for _ in range(16)]
    k = [0]

    def step():
        x, y = xs[k[0] % 16], ys[k[0] % 16]; k[0] += 1
        h = x
        for i in range(4):
            h = F.silu(torch.baddbmm(bs[i], h, Ws[i]))
        o = torch.baddbmm(bs[4], h, Ws[4])
        mean, raw = o[..., :O], o[..., O:]
        lv = max_lv - F.softplus(max_lv - raw)
        lv = min_lv + F.softplus(lv - min_lv)
        loss = (0.5 * (lv + (y - mean) ** 2 * torch.exp(-lv))).mean() + 0.01 * (max_lv.sum() - min_lv.sum())
        for i in range(5):
            loss = loss + 0.5 * wd[i] * (Ws[i] ** 2).sum()
        opt.zero_grad(); loss.backward(); opt.step()
        return loss.item()
    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload", choices=["sac", "world-model"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    step = sac_workload() if a.workload == "sac" else wm_workload()
    first = step()
    for _ in range(a.warmup):
        step()
    best = 0.0
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            last = step()
        best = max(best, a.steps / (time.perf_counter() - t0))
    unit = "updates/s" if a.workload == "sac" else "steps/s"
    print(f"loss {first:.4f} -> {last:.4f}")
    print(f"torch {torch.__version__} {a.workload} threads={a.threads}: {best:.1f} {unit}")


if __name__ == "__main__":
    main()
