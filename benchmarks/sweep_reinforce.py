"""Sweep REINFORCE's settings under the time-to-solve protocol; the defaults of `pgrad train` come
from this sweep.

    python benchmarks/sweep_reinforce.py                  # the recorded sweep (about 10 min)
    python benchmarks/sweep_reinforce.py --seeds 10 --weighting return --lr 0.05 0.1 --episodes 64

Three stages: every setting of the grid on seeds 1..``--seeds``; then the ``--top`` fastest
settings that solved every seed, and the fastest such setting of the seed formula (``return``),
again on seeds 1..``--final-seeds`` (the protocol's seeds); then those that solved all of them on
``--holdout-seeds`` further seeds, which no stage chose on. The default is the fastest median of
the last stage among the settings that solved every seed of it: a sweep's winner on ten seeds is
partly luck, and a default must not diverge on the next seed a user tries.

Protocol (the one of ``benchmarks/time_to_solve.py``): after every update the policy, sampling its
actions, is evaluated on 100 CartPole-v1 episodes stepped together; it is solved when they average
>= 475 and 1000 fresh episodes confirm it. Seconds are training wall-clock seconds (sampling,
updates, logging), evaluation excluded. Every setting trains seeds 1..K with ``pgrad.train``
(no progress bar, no TensorBoard) on one CPU thread.

Observation normalisation (``--obs-norm``) standardises inputs with running statistics: it
changes the policy's parametrisation, not the estimator. Weightings (Psi_t; only unbiased ones,
see docs/performance.md):

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
        cfg = pgrad.make_config(
            algo="reinforce", env=env, seed=seed, total_env_steps=budget, eval_interval=1,
            eval_episodes=100, confirm_episodes=1000, confirm_rule="all", eval_budget=0,
            gamma=1.0, normalize_advantages=False,
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
    parser.add_argument("--lr", type=float, nargs="+", default=[0.05, 0.1, 0.14])
    parser.add_argument("--episodes", type=int, nargs="+", default=[32, 48, 64, 96])
    parser.add_argument("--hidden", nargs="+", default=["32", "64"], help="32, 64x64; 0: linear")
    parser.add_argument("--obs-norm", nargs="+", default=["on", "off"], choices=["on", "off"],
                        help="standardise observations with running statistics")  # fmt: skip
    parser.add_argument("--budget", type=int, default=500_000)
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--final-seeds", type=int, default=10)
    parser.add_argument("--holdout-seeds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/runs/sweep_reinforce.jsonl"))
    args = parser.parse_args()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    grid = [
        dict(
            WEIGHTINGS[weighting],
            weighting=weighting,
            lr=lr,
            m=m,
            hidden=hidden,
            normalize_observations=obs_norm == "on",
        )
        for weighting, lr, m, hidden, obs_norm in itertools.product(
            args.weighting, args.lr, args.episodes, args.hidden, args.obs_norm
        )
    ]
    rows = sweep(grid, range(1, args.seeds + 1), args)
    print_table(rows, f"{args.env}, every setting, seeds 1..{args.seeds}, fastest median first")
    if args.top:
        complete = [r for r in rows if r["solved"] == args.seeds]
        best = complete[: args.top]
        seed_formula = [r for r in complete if r["setting"]["weighting"] == "return"][:1]
        best += [r for r in seed_formula if r not in best]  # the theorem's estimator, as stated
        final = sweep([r["setting"] for r in best], range(1, args.final_seeds + 1), args)
        print_table(final, f"{args.env}, the {len(best)} fastest, seeds 1..{args.final_seeds}")
        if args.holdout_seeds:  # seeds no stage chose on: is the winner robust, or lucky?
            held = range(args.final_seeds + 1, args.final_seeds + args.holdout_seeds + 1)
            kept = [r for r in final if r["solved"] == args.final_seeds]
            holdout = sweep([r["setting"] for r in kept], held, args)
            print_table(holdout, f"{args.env}, held-out seeds {held.start}..{held.stop - 1}")


def sweep(grid: list[dict[str, Any]], seeds: range, args: argparse.Namespace) -> list[dict]:
    """Run every setting on ``seeds``; rows sorted by median seconds (unsolved count as inf)."""
    rows = []
    with args.out.open("a") as out:
        for setting in grid:
            weighting, lr, m, hidden = (setting[k] for k in ("weighting", "lr", "m", "hidden"))
            sizes = () if hidden == "0" else tuple(int(h) for h in hidden.split("x"))
            config = {k: v for k, v in setting.items() if k not in ("weighting", "m", "hidden")}
            config.update(value_lr=lr, episodes_per_update=m, num_envs=m, hidden_sizes=sizes)
            runs = [run(config, seed, args.env, args.budget) for seed in seeds]
            out.write(json.dumps(dict(setting=setting, runs=runs)) + "\n")
            out.flush()
            seconds = [r["seconds"] if r["solved"] else float("inf") for r in runs]
            steps = [r["env_steps"] if r["solved"] else float("inf") for r in runs]
            row = dict(setting=setting, solved=sum(r["solved"] for r in runs), seeds=len(runs),
                       median=statistics.median(seconds), worst=max(seconds),
                       steps=statistics.median(steps))  # fmt: skip
            rows.append(row)
            norm = "on" if setting["normalize_observations"] else "off"
            print(f"{weighting} lr={lr} m={m} hidden={hidden} obs-norm={norm}: "
                  f"{row['solved']}/{len(runs)} solved, median {row['median']:.3f} s",
                  flush=True)  # fmt: skip
    return sorted(rows, key=lambda r: (r["median"], r["worst"]))


def print_table(rows: list[dict[str, Any]], title: str) -> None:
    print(f"\n{title}\n")
    print("| weighting | lr | m = num_envs | hidden | obs norm | solved | median s | worst s "
          "| median steps |")  # fmt: skip
    print("|---|---:|---:|---|---|---:|---:|---:|---:|")
    for r in rows:
        s = r["setting"]
        norm = "on" if s["normalize_observations"] else "off"
        print(f"| {s['weighting']} | {s['lr']} | {s['m']} | {s['hidden']} | {norm} | "
              f"{r['solved']}/{r['seeds']} | {r['median']:.3f} | {r['worst']:.3f} | "
              f"{r['steps']:,.0f} |")  # fmt: skip


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\nsweep took {time.perf_counter() - start:.0f} s")
