"""Where the time of a whole `pgrad train` process goes: imports, training, evaluation, outputs.

    python benchmarks/startup.py              # seeds 1..10 of the default run
    python benchmarks/startup.py --seeds 3

Part 1 imports the libraries the default run needs, in the order the run imports them, in a fresh
interpreter, and prints the seconds each adds (what is already loaded is not counted twice).
Part 2 runs ``pgrad train --seed k --no-progress`` as a user does and splits each process's wall
time with the figures of its ``summary.json``: training (sampling, updates, logging), evaluation
(after every update, with the 1000-episode confirmation), and the rest (interpreter start,
imports, argument parsing, environment creation, and writing the checkpoints, plot and summary).
It also prints each run's training throughput against its rollout limit (``summary.json``'s
``steps_per_second`` and ``rollout_steps_per_second``).
"""

from __future__ import annotations

import argparse
import json
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


def process(seed: int) -> dict[str, float]:
    """One ``pgrad train`` process: its wall seconds and its summary's timings."""
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        command = [sys.executable, "-m", "pgrad.cli", "train", "--seed", str(seed),
                   "--run-dir", str(run_dir), "--no-progress"]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
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
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
