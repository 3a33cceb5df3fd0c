"""The share of a run's wall time that evaluation takes, with the default evaluation schedule, on
every task of docs/benchmarks.md.

    python benchmarks/eval_share.py --jobs 2                    # every task, seed 1
    python benchmarks/eval_share.py --suite classic --jobs 2    # one suite of learning.py

Each (task, algorithm) row of ``benchmarks/learning.py``'s suites runs with its training settings
but pgrad's default evaluation settings (the ``eval_*``, ``confirm_*`` and ``target_return``
fields dropped, so the environment's threshold is the target, as a user running
``pgrad train ALGO --env TASK`` gets). Each run's ``summary.json`` gives ``eval_seconds`` and
``wall_seconds`` (the whole run inside the process: environments, training, evaluation and the
outputs); the table prints their ratio, the evaluation steps against the training steps, and
whether the run was solved. Runs go two at a time with ``--jobs 2``; the share is a ratio within
one run, which sharing the machine moves little.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from learning import SUITES

EVAL_FIELDS = ("eval_episodes", "eval_interval", "confirm_episodes", "confirm_rule",
               "eval_budget", "target_return")  # fmt: skip


def run(env: str, label: str, settings: dict[str, Any], seed: int) -> dict[str, Any]:
    """One run with the default evaluation schedule; its summary's figures."""
    import pgrad  # in the worker process

    kept = {k: v for k, v in settings.items() if k not in EVAL_FIELDS}
    kept.setdefault("algo", label)
    with tempfile.TemporaryDirectory() as tmp:
        pgrad.train(pgrad.make_config(env=env, seed=seed, progress=False, tensorboard=False,
                                      run_dir=Path(tmp) / "run", **kept))  # fmt: skip
        summary = json.loads((Path(tmp) / "run" / "summary.json").read_text())
    return {"task": env, "label": label, **{k: summary[k] for k in (
        "solved", "env_steps", "eval_steps", "train_seconds", "eval_seconds", "wall_seconds")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=sorted(SUITES), action="append")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    rows = [row for suite in args.suite or ["classic", "pendulum", "mujoco", "spaces"]
            for row in SUITES[suite]]  # fmt: skip
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run, env, label, settings, args.seed)
                   for env, label, settings in rows]  # fmt: skip
        results = [f.result() for f in futures]
    print("| task | run | solved | train steps | eval steps | train s | eval s | wall s | "
          "eval share of wall |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['task']} | {r['label']} | {'yes' if r['solved'] else 'no'} | "
              f"{r['env_steps']:,} | {r['eval_steps']:,} | {r['train_seconds']:.1f} | "
              f"{r['eval_seconds']:.1f} | {r['wall_seconds']:.1f} | "
              f"{r['eval_seconds'] / r['wall_seconds']:.0%} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
