"""How training throughput grows with the number of environments and the network's width.

    python benchmarks/throughput.py                       # both tables, CartPole-v1
    python benchmarks/throughput.py --envs 1 64 1024 --widths 32

Every cell is one ``pgrad train`` run of the default algorithm (REINFORCE) for a fixed budget of
environment steps, with m = N episodes per update, no evaluation until the end and no target (it
keeps training after CartPole is solved, as a long run does). From that one run:

- *train steps/s*: env steps / training seconds (sampling, updates, logging: everything but
  evaluation);
- *rollout steps/s*: env steps / the seconds spent sampling in that same run, which is the rollout
  limit: the same vector environment and network doing only inference (NumPy forward and
  sampling), no learning;
- *share*: train / rollout, the fraction of the rollout limit that training keeps.

Widths are hidden layers written as ``32`` or ``64x64``. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pgrad


def measure(env: str, num_envs: int, hidden: tuple[int, ...], steps: int) -> tuple[float, float]:
    """(train steps/s, rollout steps/s) of one run."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = pgrad.make_config(
            env=env, num_envs=num_envs, episodes_per_update=num_envs, hidden_sizes=hidden,
            total_env_steps=steps, target_return="none", eval_interval=0, eval_episodes=10,
            run_dir=Path(tmp) / "run", progress=False, tensorboard=False,
        )  # fmt: skip
        result = pgrad.train(cfg)
    return result.env_steps / result.train_seconds, result.env_steps / result.rollout_seconds


def table(env: str, cells: list[tuple[int, str]], steps: int, title: str) -> None:
    print(f"\n{title} ({env}, about {steps:,} env steps per run)\n")
    print("| num_envs | hidden | train steps/s | rollout steps/s | share |")
    print("|---:|---|---:|---:|---:|")
    for num_envs, hidden in cells:
        sizes = () if hidden == "0" else tuple(int(h) for h in hidden.split("x"))
        train, rollout = measure(env, num_envs, sizes, steps)
        share = train / rollout
        cells_text = f"{train:,.0f} | {rollout:,.0f} | {share:.0%}"
        print(f"| {num_envs} | {hidden} | {cells_text} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--envs", type=int, nargs="+", default=[1, 4, 16, 64, 256, 1024])
    parser.add_argument("--widths", nargs="+", default=["16", "64", "256", "64x64", "256x256"])
    parser.add_argument("--default-width", default="32")
    parser.add_argument("--default-envs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=300_000)
    args = parser.parse_args()
    by_envs = [(n, args.default_width) for n in args.envs]
    table(args.env, by_envs, args.steps, f"By number of environments (hidden {args.default_width})")
    by_width = [(args.default_envs, w) for w in args.widths]
    table(args.env, by_width, args.steps, f"By network width (num_envs {args.default_envs})")


if __name__ == "__main__":
    main()
