"""Learning curves and final returns of a task's seeds from ``benchmarks/runs/`` (one figure).

    python benchmarks/learning.py --suite mujoco-ppo --seeds 5 --jobs 1
    python benchmarks/mujoco_curves.py --env HalfCheetah-v5 --label ppo

Reads every run ``<env>__<label>__<seed>`` that finished, draws each seed's training return (the
mean of its last 100 episodes, as PPO's metrics row reports it) against environment steps into
``docs/img/curves_<env>_<label>.png``, and prints one row per seed: the final evaluation
(``summary.json``'s ``eval_mean``: the run's last evaluation, sampled actions), the last
training return, and the run's training and wall seconds; then the mean and standard deviation
over seeds.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from pgrad.trainer.logging import read_metrics

ROOT = Path(__file__).resolve().parent
RUNS, DOCS = ROOT / "runs", ROOT.parent / "docs"


def seeds(env: str, label: str) -> list[tuple[int, dict, list[dict[str, float]]]]:
    """(seed, summary, metrics rows) of every finished run of (env, label), by seed."""
    out = []
    for path in RUNS.glob(f"{env}__{label}__*/summary.json"):
        seed = int(path.parent.name.rsplit("__", 1)[1])
        out.append((seed, json.loads(path.read_text()), read_metrics(path.parent / "metrics.csv")))
    return sorted(out, key=lambda item: item[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--label", default="ppo")
    args = parser.parse_args()
    runs = seeds(args.env, args.label)
    if not runs:
        raise SystemExit(f"no finished runs {args.env}__{args.label}__* in {RUNS}")
    fig, ax = plt.subplots(figsize=(6.5, 4), dpi=100)
    print("| seed | final eval (sampled) | last training return | train s | wall s |")
    print("|---:|---:|---:|---:|---:|")
    finals, lasts = [], []
    for seed, summary, rows in runs:
        rows = [r for r in rows if "rollout/ep_return_mean" in r]
        ax.plot([r["env_steps"] for r in rows], [r["rollout/ep_return_mean"] for r in rows],
                alpha=0.8, label=f"seed {seed}")  # fmt: skip
        finals.append(summary["eval_mean"])
        lasts.append(rows[-1]["rollout/ep_return_mean"])
        print(f"| {seed} | {finals[-1]:.1f} | {lasts[-1]:.1f} | {summary['train_seconds']:.1f} | "
              f"{summary['wall_seconds']:.1f} |")  # fmt: skip
    spread = statistics.pstdev if len(runs) > 1 else (lambda _: 0.0)
    print(f"| mean ± std | {statistics.mean(finals):.1f} ± {spread(finals):.1f} | "
          f"{statistics.mean(lasts):.1f} ± {spread(lasts):.1f} | | |")  # fmt: skip
    ax.set_xlabel("environment steps")
    ax.set_ylabel("training return (last 100 episodes)")
    ax.set_title(f"{args.env}, {args.label}, {len(runs)} seeds")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    (DOCS / "img").mkdir(parents=True, exist_ok=True)
    fig.savefig(DOCS / "img" / f"curves_{args.env}_{args.label}.png")


if __name__ == "__main__":
    main()
