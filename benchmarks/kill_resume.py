"""Kill runs at random moments (SIGKILL), resume them, and check they end bit-identical.

    python benchmarks/kill_resume.py --kills 200            # about half of them during a write

For each trial a ``pgrad train`` process is started with a checkpoint after every few updates and
killed with SIGKILL: at a uniformly random moment of its run (``random``), or as soon as it is
seen writing a checkpoint (``write``: polling for the temporary checkpoint directory, then a
random 0-3 ms more). A kill counts as *during a write* when a temporary file or directory of a
checkpoint was left behind. The run is then resumed with ``pgrad train --resume`` (again and
again if needed) and its final and best weights and its metrics rows (timing columns aside)
compared with the same run never interrupted. Prints one line per trial and the totals.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = {
    "ppo-cartpole": ["ppo", "--env", "CartPole-v1", "--total-env-steps", "30000",
                     "--num-steps", "64"],
    "reinforce-cartpole": ["reinforce", "--env", "CartPole-v1", "--total-env-steps", "40000",
                           "--episodes-per-update", "8", "--num-envs", "8"],
    "a2c-pendulum": ["a2c", "--env", "Pendulum-v1", "--total-env-steps", "8000"],
    "ppo-hopper": ["ppo", "--env", "Hopper-v5", "--total-env-steps", "6000", "--num-envs", "2",
                   "--num-steps", "256", "--normalize-observations", "--normalize-rewards"],
}  # fmt: skip
COMMON = ["--target-return", "none", "--checkpoint-every", "500", "--eval-interval", "10",
          "--eval-episodes", "3", "--no-progress", "--no-tensorboard"]  # fmt: skip
TIMING = ("time/train_seconds", "time/rollout_seconds")


def command(args: list[str], run: Path) -> list[str]:
    return [sys.executable, "-m", "pgrad.cli", "train", *args, *COMMON, "--run-dir", str(run)]


def fingerprint(run: Path) -> tuple[str, ...]:
    """Hashes of the final and best weights and of the metrics without its timing columns."""
    lines = (run / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    keep = [i for i, name in enumerate(header) if name not in TIMING]
    rows = "\n".join(",".join(line.split(",")[i] for i in keep) for line in lines)
    weights = [(run / "checkpoints" / f"{n}.safetensors").read_bytes() for n in ("final", "best")]
    return tuple(hashlib.sha256(b).hexdigest()[:16] for b in (*weights, rows.encode()))


def writing(run: Path) -> bool:
    """Whether a checkpoint or output was being written: a temporary left behind."""
    return any(p.name.endswith(".tmp") for p in run.rglob(".*"))


def kill(proc: subprocess.Popen[bytes], run: Path, mode: str, rng: random.Random,
         duration: float) -> None:  # fmt: skip
    if mode == "random":
        time.sleep(rng.uniform(0.0, duration))
    else:
        checkpoints = run / "checkpoints"
        deadline = time.monotonic() + 2 * duration
        while time.monotonic() < deadline and proc.poll() is None:
            with os.scandir(checkpoints) if checkpoints.is_dir() else _empty() as it:
                if any(e.name.startswith(".state-") for e in it):
                    break
        time.sleep(rng.uniform(0.0, 0.003))
    proc.send_signal(signal.SIGKILL)
    proc.wait()


class _empty:
    def __enter__(self) -> list[os.DirEntry[str]]:
        return []

    def __exit__(self, *args: object) -> None:
        return None


def resume(run: Path, case: list[str]) -> None:
    """``pgrad train --resume``; a run killed before it wrote its config is started again."""
    if not (run / "config.json").is_file():  # (its directory is empty, or not there)
        subprocess.run(command(case, run), check=True, capture_output=True)
        return
    for _ in range(3):
        done = subprocess.run([sys.executable, "-m", "pgrad.cli", "train", "--resume", str(run),
                               "--no-progress"], capture_output=True, text=True)  # fmt: skip
        if done.returncode == 0:
            return
        if "already finished" in done.stderr:  # killed after its last checkpoint
            return
    raise RuntimeError(f"resume failed: {done.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        references, durations = {}, {}
        for name, case in CASES.items():
            start = time.perf_counter()
            subprocess.run(command(case, Path(tmp) / f"ref-{name}"), check=True,
                           capture_output=True)  # fmt: skip
            durations[name] = time.perf_counter() - start
            references[name] = fingerprint(Path(tmp) / f"ref-{name}")
        same = during = 0
        for k in range(args.kills):
            name = list(CASES)[k % len(CASES)]
            mode = "write" if k % 2 else "random"
            run = Path(tmp) / f"trial-{k}"
            proc = subprocess.Popen(command(CASES[name], run), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)  # fmt: skip
            kill(proc, run, mode, rng, durations[name])
            in_write = writing(run)
            resume(run, CASES[name])
            ok = fingerprint(run) == references[name]
            same, during = same + ok, during + in_write
            print(f"{k + 1:4d} {name:20s} kill {mode:6s} {'during a write' if in_write else '':15s}"
                  f" {'identical' if ok else 'DIFFERENT'}", flush=True)  # fmt: skip
            subprocess.run(["rm", "-rf", str(run)], check=True)
    print(f"\nidentical after resume: {same}/{args.kills}; kills during a write: {during}")


if __name__ == "__main__":
    main()
