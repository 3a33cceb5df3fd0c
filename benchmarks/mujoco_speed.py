"""PPO on MuJoCo at CleanRL's settings: pgrad beside Stable-Baselines3 (and CleanRL), interleaved.

    python benchmarks/mujoco_speed.py --env HalfCheetah-v5 --steps 61440 --repeats 3
    python benchmarks/mujoco_speed.py --cleanrl PATH/TO/ppo_continuous_action.py

Settings (CleanRL's ``ppo_continuous_action.py``): one environment, 2048-step rollouts, 10 epochs
of 32 minibatches, 64x64 tanh networks, gamma 0.99, GAE lambda 0.95, clip 0.2, lr 3e-4 with a
linear decay, gradient clipping at 0.5, observation and reward normalisation. Every
implementation runs in its own process with one thread (``OMP_NUM_THREADS=1``,
``torch.set_num_threads(1)``), the implementations in turn within each repeat, so that the
machine's drift affects them alike. The figure is training seconds as each process measures
them around its training call (no evaluation), and steps/s; the best repeat and the median are
printed. CleanRL's script (not part of this repository; pass its path) is timed as a whole
process, start-up included, and its own steps/s line is read from its output.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

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
print(json.dumps({"seconds": result.train_seconds, "steps": result.env_steps}))
"""

SB3 = """
import json, sys, time, torch
torch.set_num_threads(1)
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize
steps, env_id = int(sys.argv[1]), sys.argv[2]
env = VecNormalize(make_vec_env(env_id, n_envs=1, seed=1), gamma=0.99)
model = PPO("MlpPolicy", env, n_steps=2048, batch_size=64, n_epochs=10, gamma=0.99,
            gae_lambda=0.95, clip_range=0.2, learning_rate=lambda f: 3e-4 * f, max_grad_norm=0.5,
            ent_coef=0.0, policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64]),
            activation_fn=torch.nn.Tanh), seed=1, device="cpu")
start = time.perf_counter()
model.learn(total_timesteps=steps)
print(json.dumps({"seconds": time.perf_counter() - start, "steps": steps}))
"""


def _run_code(code: str, steps: int, env: str) -> dict[str, float]:
    environ = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code, str(steps), env], env=environ,
                         capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_cleanrl(path: str, steps: int, env: str) -> dict[str, float]:
    environ = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as cwd:
        start = time.perf_counter()
        out = subprocess.run([sys.executable, path, "--env-id", env, "--total-timesteps",
                              str(steps), "--no-cuda", "--seed", "1"], cwd=cwd, env=environ,
                             capture_output=True, text=True, check=True)  # fmt: skip
        seconds = time.perf_counter() - start
    sps = re.findall(r"SPS:\s*(\d+)", out.stdout + out.stderr)
    return {"seconds": seconds, "steps": steps, "own_sps": float(sps[-1]) if sps else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--steps", type=int, default=61_440)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cleanrl", metavar="PATH", help="CleanRL's ppo_continuous_action.py")
    args = parser.parse_args()
    runners = {"pgrad": lambda: _run_code(PGRAD, args.steps, args.env),
               "Stable-Baselines3": lambda: _run_code(SB3, args.steps, args.env)}  # fmt: skip
    if args.cleanrl:
        runners["CleanRL (whole process)"] = lambda: _run_cleanrl(args.cleanrl, args.steps,
                                                                  args.env)  # fmt: skip
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for repeat in range(args.repeats):
        for name, run in runners.items():
            result = run()
            seconds[name].append(result["seconds"])
            print(f"repeat {repeat + 1} {name}: {result['seconds']:.1f} s "
                  f"({result['steps'] / result['seconds']:,.0f} steps/s)", flush=True)  # fmt: skip
    best = {name: min(values) for name, values in seconds.items()}
    print(f"\n{args.env}, {args.steps:,} steps, one thread each, {args.repeats} repeats\n")
    print("| implementation | best s | median s | steps/s (best) | time / pgrad's |")
    print("|---|---:|---:|---:|---:|")
    for name, values in seconds.items():
        print(f"| {name} | {best[name]:.1f} | {statistics.median(values):.1f} "
              f"| {args.steps / best[name]:,.0f} | {best[name] / best['pgrad']:.2f}x |")


if __name__ == "__main__":
    main()
