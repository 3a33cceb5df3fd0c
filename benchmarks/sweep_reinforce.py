"""Sweep REINFORCE's settings on one environment and print time-to-solve per setting.

Each setting trains seeds 1..K with ``pgrad.train`` (no progress bar, no TensorBoard) and reports
how many seeds solved, the median training seconds (evaluation excluded) and median env steps.
Used to choose the defaults of ``pgrad train``; the figures depend on the machine.

    python benchmarks/sweep_reinforce.py --seeds 5 --lr 0.01 0.02 --episodes 8 16
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from pathlib import Path

import pgrad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--lr", type=float, nargs="+", default=[0.01, 0.02, 0.05])
    parser.add_argument("--gamma", type=float, nargs="+", default=[1.0, 0.99])
    parser.add_argument("--episodes", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--envs", type=int, nargs="+", default=[0], help="0: same as episodes")
    parser.add_argument("--hidden", type=int, nargs="+", default=[32])
    parser.add_argument("--budget", type=int, default=500_000)
    args = parser.parse_args()

    print("| lr | gamma | m | num_envs | hidden | solved | median train s | median env steps |")
    print("|---|---|---|---|---|---|---|---|")
    grid = itertools.product(args.lr, args.gamma, args.episodes, args.envs, args.hidden)
    for lr, gamma, m, n, hidden in grid:
        num_envs = n or m
        seconds, steps, solved = [], [], 0
        for seed in range(1, args.seeds + 1):
            with tempfile.TemporaryDirectory() as tmp:
                cfg = pgrad.Config(
                    env=args.env, lr=lr, gamma=gamma, episodes_per_update=m, num_envs=num_envs,
                    hidden_sizes=(hidden,), seed=seed, total_env_steps=args.budget,
                    run_dir=Path(tmp) / "run", progress=False, tensorboard=False,
                )  # fmt: skip
                result = pgrad.train(cfg)
            solved += result.solved
            seconds.append(result.train_seconds if result.solved else float("inf"))
            steps.append(result.env_steps if result.solved else float("inf"))
        print(
            f"| {lr} | {gamma} | {m} | {num_envs} | {hidden} | {solved}/{args.seeds} "
            f"| {statistics.median(seconds):.2f} | {statistics.median(steps):,.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"sweep took {time.perf_counter() - start:.0f} s")
