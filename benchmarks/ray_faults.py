"""Kill 1 of 4 Ray workers every 30 s through a long run; check it ends as an undisturbed run.

    python benchmarks/ray_faults.py                       # PPO on CartPole-v1, about 4 minutes
    python benchmarks/ray_faults.py --every 10 --total-env-steps 200000

Runs ``pgrad train --workers 4`` twice with the same settings: once undisturbed, once while this
script sends SIGKILL to one of the run's sampler workers (a process whose title is
``ray::SamplerWorker``, chosen at random) every ``--every`` seconds. The workers share the two
cores (``--worker-cpus 0.5``). Prints each kill, then the final weights' hash, the environment
steps and the episode counts of both runs, and exits 1 unless they are equal and the disturbed
run was killed at least once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def command(run: Path, steps: int) -> list[str]:
    return [sys.executable, "-m", "pgrad", "train", "ppo", "--env", "CartPole-v1",
            "--num-envs", "8", "--num-steps", "128", "--workers", "4", "--worker-cpus", "0.5",
            "--total-env-steps", str(steps), "--target-return", "none", "--eval-interval", "0",
            "--no-progress", "--no-tensorboard", "--run-dir", str(run)]  # fmt: skip


def sampler_workers() -> list[int]:
    """Process ids of the live Ray sampler workers on this machine."""
    out = subprocess.run(["pgrep", "-f", "^ray::SamplerWorker"], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


def outcome(run: Path) -> dict[str, object]:
    """The final weights' hash and the counts of ``summary.json``."""
    summary = json.loads((run / "summary.json").read_text())
    weights = (run / "checkpoints" / "final.safetensors").read_bytes()
    return {"weights": hashlib.sha256(weights).hexdigest()[:16],
            **{k: summary[k] for k in ("env_steps", "episodes", "updates")}}  # fmt: skip


def disturbed(run: Path, steps: int, every: float, rng: random.Random) -> int:
    """Train while killing one worker every ``every`` seconds; the number of kills."""
    proc = subprocess.Popen(command(run, steps))
    kills, due = 0, time.monotonic() + every
    while proc.poll() is None:
        time.sleep(0.2)
        pids = sampler_workers()
        if time.monotonic() >= due and pids:
            victim = rng.choice(pids)
            subprocess.run(["kill", f"-{signal.SIGKILL.value}", str(victim)], check=False)
            kills += 1
            print(f"{time.strftime('%H:%M:%S')} killed worker process {victim} "
                  f"(of {len(pids)})", flush=True)  # fmt: skip
            due = time.monotonic() + every
    if proc.returncode != 0:
        sys.exit(f"the disturbed run failed (exit status {proc.returncode})")
    return kills


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-env-steps", type=int, default=1_500_000)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between kills")
    parser.add_argument("--seed", type=int, default=0, help="which worker is killed")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pgrad-ray-faults-"))
    tick = time.perf_counter()
    subprocess.run(command(root / "undisturbed", args.total_env_steps), check=True)
    print(f"undisturbed run: {time.perf_counter() - tick:.0f} s", flush=True)
    kills = disturbed(root / "disturbed", args.total_env_steps, args.every,
                      random.Random(args.seed))  # fmt: skip
    runs = {name: outcome(root / name) for name in ("undisturbed", "disturbed")}
    for name, result in runs.items():
        print(f"{name:>11}: {result}")
    same = runs["undisturbed"] == runs["disturbed"]
    print(f"{kills} workers killed; the same weights, steps and episodes: {same}")
    sys.exit(0 if same and kills else 1)


if __name__ == "__main__":
    main()
