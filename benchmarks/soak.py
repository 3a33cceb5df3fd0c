"""Soak: one long run with logging and checkpoints; resident memory and disk use over time.

    python benchmarks/soak.py                       # 10M CartPole-v1 steps of REINFORCE

Samples the training process's resident set size (``/proc/PID/status``) and the run directory's
size once a second; prints the curve (every tenth sample) and the growth after warm-up (the first
tenth of the run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def size_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000_000)
    parser.add_argument("--checkpoint-every", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        proc = subprocess.Popen([sys.executable, "-m", "pgrad.cli", "train", "--target-return",
                                 "none", "--total-env-steps", str(args.steps), "--no-progress",
                                 "--checkpoint-every", str(args.checkpoint_every), "--run-dir",
                                 str(run)], stdout=subprocess.DEVNULL)  # fmt: skip
        samples: list[tuple[float, float, float]] = []
        start = time.monotonic()
        while proc.poll() is None:
            time.sleep(1.0)
            try:
                rss = rss_mib(proc.pid)
                if rss == rss:  # a process that has just exited has no VmRSS line
                    samples.append((time.monotonic() - start, rss, size_mib(run)))
            except (OSError, ValueError):
                break
        steps = json.loads((run / "summary.json").read_text())["env_steps"]
        print("| seconds | RSS MiB | run dir MiB |\n|---:|---:|---:|")
        for t, rss, disk in samples[:: max(len(samples) // 10, 1)]:
            print(f"| {t:.0f} | {rss:.1f} | {disk:.2f} |")
        warm = samples[len(samples) // 10:]
        growth = (warm[-1][1] - warm[0][1]) / warm[0][1]
        peak = max(s[1] for s in warm)
        print(f"\n{steps:,} env steps; RSS after warm-up: {warm[0][1]:.1f} -> {warm[-1][1]:.1f} "
              f"MiB ({growth:+.1%}), peak {peak:.1f} MiB; run directory {samples[-1][2]:.2f} MiB "
              "at the end")  # fmt: skip


if __name__ == "__main__":
    main()
