"""PPO on MuJoCo at CleanRL's settings: pgrad beside Stable-Baselines3, SBX, CleanRL, interleaved.

    python benchmarks/mujoco_speed.py --env HalfCheetah-v5 --steps 61440 --repeats 3
    python benchmarks/mujoco_speed.py --cleanrl PATH/TO/ppo_continuous_action.py
    python benchmarks/mujoco_speed.py --python VENV/bin/python --steps 4096 --repeats 1

Settings (CleanRL's ``ppo_continuous_action.py``): one environment, 2048-step rollouts, 10 epochs
of 32 minibatches, 64x64 tanh networks, gamma 0.99, GAE lambda 0.95, clip 0.2, lr 3e-4 with a
linear decay, gradient clipping at 0.5, observation and reward normalisation. Every
implementation runs in its own process with one thread (``OMP_NUM_THREADS=1``,
``torch.set_num_threads(1)``; for SBX, JAX on the CPU with ``XLA_FLAGS`` for one thread), the
implementations in turn within each repeat, so that the machine's drift affects them alike. The
figure is training seconds as each process measures them around its training call (no
evaluation), and steps/s; the best repeat and the median are printed, and last pgrad's speed-up
against each peer (the peer's seconds over pgrad's). SBX (Stable-Baselines3 in JAX) is timed
around its whole ``learn`` call like Stable-Baselines3, so its figure includes JAX compiling the
rollout and update functions on their first call. CleanRL's script (not part of this repository;
pass its path) is timed by its own clock: the last ``SPS`` line it prints (steps over the seconds
since its training loop began). Steps/s divide each implementation's own count of steps: pgrad's
budget counts real transitions and ends at a rollout boundary, so it may train one rollout more
than asked.

The child processes run ``--python`` (this interpreter by default). SBX runs only where that
interpreter has it: after ``pip install torch==2.13.0``, ``pip install sbx-rl jax``, with the
same constraints file as the project (``-c constraints.txt``) so that torch stays the CPU build.
CleanRL's script targets Gymnasium 0.29; under Gymnasium 1.x it needs small local changes (the
observation space passed to ``TransformObservation``, for one).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

PGRAD = """
import json, sys, tempfile, time, pgrad
steps, env = int(sys.argv[1]), sys.argv[2]
cfg = pgrad.make_config("ppo", env=env, num_envs=1, num_steps=2048, update_epochs=10,
    num_minibatches=32, hidden_sizes=(64, 64), activation="tanh", gamma=0.99, gae_lambda=0.95,
    clip_coef=0.2, lr=3e-4, value_lr=3e-4, lr_schedule="linear", max_grad_norm=0.5,
    entropy_coef=0.0, normalize_observations=True, normalize_rewards=True, total_env_steps=steps,
    target_return="none", eval_interval=10**9, eval_episodes=1, torch_threads=1,
    progress=False, tensorboard=False, run_dir=tempfile.mkdtemp() + "/run")
result = pgrad.train(cfg)
print(json.dumps({"seconds": result.train_seconds, "steps": result.transitions}))
"""

SB3_FAMILY = """
import json, sys, time, torch
torch.set_num_threads(1)
{imports}
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize
steps, env_id = int(sys.argv[1]), sys.argv[2]
env = VecNormalize(make_vec_env(env_id, n_envs=1, seed=1), gamma=0.99)
model = PPO("MlpPolicy", env, n_steps=2048, batch_size=64, n_epochs=10, gamma=0.99,
            gae_lambda=0.95, clip_range=0.2, learning_rate=lambda f: 3e-4 * f, max_grad_norm=0.5,
            ent_coef=0.0, policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64]),
            activation_fn={tanh}, ortho_init=True), seed=1, device="cpu")
start = time.perf_counter()
model.learn(total_timesteps=steps)
print(json.dumps({{"seconds": time.perf_counter() - start, "steps": steps}}))
"""
"""Stable-Baselines3's PPO and SBX's (its JAX version) at the same settings."""
SB3 = SB3_FAMILY.format(imports="from stable_baselines3 import PPO", tanh="torch.nn.Tanh")
SBX = SB3_FAMILY.format(imports="import flax.linen as nn\nfrom sbx import PPO", tanh="nn.tanh")

# JAX on the CPU with one thread: Eigen's thread pool off, one intra-op thread.
JAX_ONE_THREAD = {
    "JAX_PLATFORMS": "cpu",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


def _environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **(extra or {})}


def _run_code(
    code: str, steps: int, env: str, python: str, extra: dict[str, str] | None = None
) -> dict[str, float]:
    out = subprocess.run([python, "-c", code, str(steps), env], env=_environ(extra),
                         capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_cleanrl(path: str, steps: int, env: str, python: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as cwd:
        start = time.perf_counter()
        out = subprocess.run([python, path, "--env-id", env, "--total-timesteps", str(steps),
                              "--no-cuda", "--seed", "1"], cwd=cwd, env=_environ(),
                             capture_output=True, text=True, check=True)  # fmt: skip
        seconds = time.perf_counter() - start
    sps = re.findall(r"SPS:\s*(\d+)", out.stdout + out.stderr)
    if sps:  # its own training clock (start-up excluded), as the others are timed
        seconds = steps / float(sps[-1])
    return {"seconds": seconds, "steps": steps}


def _has_module(python: str, name: str) -> bool:
    """Whether ``python`` finds module ``name`` (this process answers for its own interpreter)."""
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        return importlib.util.find_spec(name) is not None
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is None)"
    return subprocess.run([python, "-c", probe], capture_output=True).returncode == 0


def _runners(args: argparse.Namespace) -> dict[str, Callable[[], dict[str, float]]]:
    steps, env, python = args.steps, args.env, args.python
    runners = {"pgrad": lambda: _run_code(PGRAD, steps, env, python),
               "Stable-Baselines3": lambda: _run_code(SB3, steps, env, python)}  # fmt: skip
    if _has_module(python, "sbx"):
        runners["SBX"] = lambda: _run_code(SBX, steps, env, python, JAX_ONE_THREAD)
    else:
        print(f"SBX is not installed for {python}: skipped (to add it, after "
              "pip install torch==2.13.0: pip install sbx-rl jax)", flush=True)  # fmt: skip
    if args.cleanrl:
        runners["CleanRL"] = lambda: _run_cleanrl(args.cleanrl, steps, env, python)
    return runners


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--steps", type=int, default=61_440)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cleanrl", metavar="PATH", help="CleanRL's ppo_continuous_action.py")
    parser.add_argument("--python", metavar="PATH", default=sys.executable,
                        help="interpreter the child processes run (default: this one)")  # fmt: skip
    args = parser.parse_args()
    runners = _runners(args)
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    steps: dict[str, int] = {}
    for repeat in range(args.repeats):
        for name, run in runners.items():
            result = run()
            seconds[name].append(result["seconds"])
            steps[name] = int(result["steps"])
            print(f"repeat {repeat + 1} {name}: {result['seconds']:.1f} s, {steps[name]:,} steps "
                  f"({steps[name] / result['seconds']:,.0f} steps/s)", flush=True)  # fmt: skip
    report(args, seconds, steps)


def report(
    args: argparse.Namespace, seconds: dict[str, list[float]], steps: dict[str, int]
) -> None:
    """The table: each implementation's best and median seconds, its own step count, its best
    steps/s, and pgrad's steps/s over it."""
    rate = {name: steps[name] / min(values) for name, values in seconds.items()}
    print(f"\n{args.env}, {args.steps:,} steps asked, one thread each, {args.repeats} repeats\n")
    print("| implementation | best s | median s | steps | steps/s (best) | pgrad's speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in seconds.items():
        speedup = rate["pgrad"] / rate[name]
        print(f"| {name} | {min(values):.1f} | {statistics.median(values):.1f} | "
              f"{steps[name]:,} | {rate[name]:,.0f} | {speedup:.2f}x |")  # fmt: skip


if __name__ == "__main__":
    main()
