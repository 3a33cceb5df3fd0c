"""Where the time of a whole `pgrad train` process goes: imports, training, evaluation, outputs.

    python benchmarks/startup.py              # seeds 1..10 of the default run
    python benchmarks/startup.py --seeds 3
    python benchmarks/startup.py --baseline-src ../before   # this checkout beside another one

Part 1 imports the libraries the default run needs, in the order the run imports them, in a fresh
interpreter, and prints the seconds each adds (what is already loaded is not counted twice).
Part 2 runs ``pgrad train --seed k --no-progress`` as a user does and splits each process's wall
time with the figures of its ``summary.json``: training (sampling, updates, logging), evaluation
(the default schedule: every 5 updates, within the evaluation budget, with the sequential
confirmation), and the rest (interpreter start,
imports, argument parsing, environment creation, and writing the checkpoints, plot and summary).
It also prints each run's training throughput against its rollout limit (``summary.json``'s
``steps_per_second`` and ``rollout_steps_per_second``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORTS = [
    ("tyro + rich (the command line)", "import tyro, rich.console, rich.progress"),
    ("torch", "import torch"),
    ("gymnasium", "import gymnasium; import gymnasium.envs.classic_control.cartpole"),
    ("safetensors", "import safetensors.torch"),
    ("pgrad (its own modules)", "import pgrad.trainer.loop, pgrad.cli"),
    ("torch.utils.tensorboard", "import torch.utils.tensorboard"),
    ("matplotlib (Agg figure)", "import matplotlib.figure, matplotlib.backends.backend_agg"),
    ("torch._dynamo (what torch.optim would import; pgrad avoids it)", "import torch._dynamo"),
]


def import_times() -> list[tuple[str, float]]:
    """Seconds each import group adds, measured in one fresh interpreter."""
    lines = ["import time, json", "out = []"]
    for name, statement in IMPORTS:
        lines += ["t = time.perf_counter()", statement,
                  f"out.append(({name!r}, time.perf_counter() - t))"]  # fmt: skip
    lines.append("print(json.dumps(out))")
    result = subprocess.run([sys.executable, "-c", "\n".join(lines)], check=True,
                            capture_output=True, text=True)  # fmt: skip
    return [tuple(x) for x in json.loads(result.stdout)]


def process(seed: int, src: str = "") -> dict[str, float]:
    """One ``pgrad train`` process (from the checkout ``src``, default the installed one): its
    wall seconds and its summary's timings."""
    env = dict(os.environ, PYTHONPATH=str(Path(src) / "src")) if src else None
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        command = [sys.executable, "-m", "pgrad.cli", "train", "--seed", str(seed),
                   "--run-dir", str(run_dir), "--no-progress"]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        wall = time.perf_counter() - start
        summary = json.loads((run_dir / "summary.json").read_text())
        assert (run_dir / "learning_curve.png").is_file()
        assert (run_dir / "checkpoints" / "final.safetensors").is_file()
    train, evaluation = summary["train_seconds"], summary["eval_seconds"]
    return dict(process=wall, train=train, eval=evaluation, rest=wall - train - evaluation,
                solved=summary["solved"], rate=summary["steps_per_second"],
                limit=summary["rollout_steps_per_second"])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--baseline-src", metavar="DIR",
                        help="another pgrad checkout to time beside this one, seed by seed")
    args = parser.parse_args()
    if args.baseline_src:
        compare(args.seeds, args.baseline_src)
        return

    print("| import | seconds |\n|---|---:|")
    for name, seconds in import_times():
        print(f"| {name} | {seconds:.3f} |")

    runs = [process(seed) for seed in range(1, args.seeds + 1)]
    print("\n| seed | process s | training s | evaluation s | everything else s | solved "
          "| train steps/s | rollout steps/s | share |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for r in runs:
        r["share"] = r["rate"] / r["limit"]
    for seed, r in enumerate(runs, start=1):
        print(f"| {seed} | {r['process']:.2f} | {r['train']:.2f} | {r['eval']:.2f} "
              f"| {r['rest']:.2f} | {r['solved']} | {r['rate']:,.0f} | {r['limit']:,.0f} "
              f"| {r['share']:.0%} |")  # fmt: skip
    keys = ("process", "train", "eval", "rest", "rate", "limit", "share")
    med = {k: statistics.median(r[k] for r in runs) for k in keys}
    print(f"| median | {med['process']:.2f} | {med['train']:.2f} | {med['eval']:.2f} "
          f"| {med['rest']:.2f} | | {med['rate']:,.0f} | {med['limit']:,.0f} "
          f"| {med['share']:.0%} |")  # fmt: skip


def compare(seeds: int, src: str) -> None:
    """Whole processes of this checkout and of ``src``, interleaved; medians and their ratio."""
    runs: dict[str, list[dict[str, float]]] = {"this": [], src: []}
    for seed in range(1, seeds + 1):
        for name in runs:
            runs[name].append(process(seed, "" if name == "this" else src))
    print("| checkout | process s (median) | training s (median) | solved |\n|---|---:|---:|---:|")
    med = {}
    for name, rs in runs.items():
        med[name] = (statistics.median(r["process"] for r in rs),
                     statistics.median(r["train"] for r in rs))  # fmt: skip
        print(f"| {name} | {med[name][0]:.3f} | {med[name][1]:.3f} "
              f"| {sum(bool(r['solved']) for r in rs)}/{len(rs)} |")  # fmt: skip
    print(f"\nthis / {src}: process {med['this'][0] / med[src][0]:.3f}x, "
          f"training {med['this'][1] / med[src][1]:.3f}x")


if __name__ == "__main__":
    main()
