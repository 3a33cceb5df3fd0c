"""Sweep REINFORCE's settings under the time-to-solve protocol; the defaults of `pgrad train` come
from this sweep.

    python benchmarks/sweep_reinforce.py --seeds 5
    python benchmarks/sweep_reinforce.py --seeds 10 --weighting return --lr 0.05 0.1 --episodes 64

Protocol (the one of ``benchmarks/time_to_solve.py``): after every update the policy, sampling its
actions, is evaluated on 100 CartPole-v1 episodes stepped together; it is solved when they average
>= 475 and 1000 fresh episodes confirm it. Seconds are training wall-clock seconds (sampling,
updates, logging), evaluation excluded. Every setting trains seeds 1..K with ``pgrad.train``
(no progress bar, no TensorBoard) on one CPU thread.

Weightings (Psi_t; only unbiased ones: see docs/performance.md):

- ``return``: R(tau), the theorem's g_hat as the seed states it;
- ``return-mean``: R(tau) minus the mean return of the batch's other trajectories;
- ``rtg``, ``rtg-mean``: reward-to-go, without and with that leave-one-out baseline;
- ``rtg-value``: reward-to-go minus a learned V(s_t) (20 value steps per update).

Prints a Markdown table, fastest median first, and writes every run to ``--out`` (JSON lines).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pgrad

WEIGHTINGS: dict[str, dict[str, Any]] = {
    "return": dict(psi="return", baseline="none"),
    "return-mean": dict(psi="return", baseline="mean"),
    "rtg": dict(psi="reward_to_go", baseline="none"),
    "rtg-mean": dict(psi="reward_to_go", baseline="mean"),
    "rtg-value": dict(psi="reward_to_go", baseline="value", value_epochs=20),
}


def run(setting: dict[str, Any], seed: int, env: str, budget: int) -> dict[str, Any]:
    """One protocol run of ``setting``; returns its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = pgrad.Config(
            algo="reinforce", env=env, seed=seed, total_env_steps=budget, eval_interval=1,
            eval_episodes=100, confirm_episodes=1000, gamma=1.0, normalize_advantages=False,
            run_dir=Path(tmp) / "run", progress=False, tensorboard=False, **setting,
        )  # fmt: skip
        result = pgrad.train(cfg)
    return dict(seed=seed, solved=result.solved, seconds=result.train_seconds,
                env_steps=result.env_steps, updates=result.updates)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--weighting", nargs="+", default=list(WEIGHTINGS), choices=WEIGHTINGS)
    parser.add_argument("--lr", type=float, nargs="+", default=[0.03, 0.05, 0.1, 0.2])
    parser.add_argument("--episodes", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--hidden", nargs="+", default=["32"], help="e.g. 32 64x64 (0: linear)")
    parser.add_argument("--budget", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/runs/sweep_reinforce.jsonl"))
    args = parser.parse_args()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    grid = itertools.product(args.weighting, args.lr, args.episodes, args.hidden)
    with args.out.open("a") as out:
        for weighting, lr, m, hidden in grid:
            sizes = () if hidden == "0" else tuple(int(h) for h in hidden.split("x"))
            setting = dict(WEIGHTINGS[weighting], lr=lr, value_lr=lr, episodes_per_update=m,
                           num_envs=m, hidden_sizes=sizes)  # fmt: skip
            runs = [run(setting, seed, args.env, args.budget) for seed in range(1, args.seeds + 1)]
            record = dict(weighting=weighting, lr=lr, m=m, hidden=hidden, runs=runs)
            out.write(json.dumps(record) + "\n")
            out.flush()
            seconds = [r["seconds"] if r["solved"] else float("inf") for r in runs]
            steps = [r["env_steps"] if r["solved"] else float("inf") for r in runs]
            solved = sum(r["solved"] for r in runs)
            median = statistics.median(seconds)
            rows.append((median, weighting, lr, m, hidden, solved, max(seconds),
                         statistics.median(steps)))  # fmt: skip
            print(f"{weighting} lr={lr} m={m} hidden={hidden}: {solved}/{args.seeds} solved, "
                  f"median {median:.3f} s", flush=True)  # fmt: skip

    print(f"\n{args.env}, seeds 1..{args.seeds}, fastest median first\n")
    print("| weighting | lr | m = num_envs | hidden | solved | median s | worst s | median steps |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for median, weighting, lr, m, hidden, solved, worst, steps in sorted(rows):
        print(f"| {weighting} | {lr} | {m} | {hidden} | {solved}/{args.seeds} | {median:.3f} "
              f"| {worst:.3f} | {steps:,.0f} |")  # fmt: skip


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\nsweep took {time.perf_counter() - start:.0f} s")
