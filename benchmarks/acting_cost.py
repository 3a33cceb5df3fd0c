"""Per-step acting cost of each acting path: microseconds per vector step of N observations.

    python benchmarks/acting_cost.py [--num-envs 8] [--repeats 7]

For each kind of policy (an MLP on CartPole, the MinAtar CNN, the Nature CNN on Atari frames, an
LSTM), the time of one ``actor.sample_with(obs, noise)`` call, the policy's forward and sampling
for N copies, through every path that can run it: NumPy (:class:`pgrad.policies.actor.
NumpyActor`, MLPs only) and PyTorch (:class:`TorchActor`). The paths are timed interleaved, in
one process, so that the machine's drift affects them alike; the figure is the median over
repeats of the mean over a block of calls. Environment stepping is not included.
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import numpy as np
import torch

from pgrad.envs.make import EnvInfo
from pgrad.envs.observations import observation_layout
from pgrad.policies.actor import NumpyActor, TorchActor, numpy_can_act
from pgrad.policies.mlp import PolicySpec, build_policy

CASES = {
    "MLP 64x64, CartPole (4 floats)": (
        gym.spaces.Box(-np.inf, np.inf, (4,), np.float32), gym.spaces.Discrete(2), {}),
    "MLP 64x64, Pendulum, squashed": (
        gym.spaces.Box(-np.inf, np.inf, (3,), np.float32), gym.spaces.Box(-2, 2, (1,)),
        {"action_dist": "squashed"}),
    "MinAtar CNN (10x10x4 bool)": (
        gym.spaces.Box(0, 1, (10, 10, 4), np.bool_), gym.spaces.Discrete(3), {}),
    "Nature CNN (4x84x84 uint8)": (
        gym.spaces.Box(0, 255, (4, 84, 84), np.uint8), gym.spaces.Discrete(4), {}),
    "LSTM 128 + MLP 64x64 (3 floats)": (
        gym.spaces.Box(-1, 1, (3,), np.float32), gym.spaces.Discrete(2), {"recurrent": "lstm"}),
}  # fmt: skip


def _time(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    n, rng = args.num_envs, np.random.default_rng(0)
    print(f"| policy | path | us per step of {n} observations |\n|---|---|---:|")
    for name, (obs_space, act_space, extra) in CASES.items():
        layout = observation_layout(obs_space)
        info = EnvInfo("bench", layout.dim, act_space, None, obs_space)
        policy = build_policy(PolicySpec(info, (64, 64), "tanh", **extra), seed=0)
        actors = {"torch": TorchActor(policy)}
        if numpy_can_act(policy):
            actors["numpy"] = NumpyActor(policy)
        obs = rng.integers(0, 2, (n, layout.dim)).astype(layout.dtype)
        noise = actors["torch"].noise(rng, (1, n))[0]
        for actor in actors.values():
            actor.begin(n)
        calls = 20 if layout.has_images and layout.dim > 1000 else 300
        times: dict[str, list[float]] = {k: [] for k in actors}
        for _ in range(args.repeats):
            for key, actor in actors.items():
                call = lambda a=actor, o=obs, z=noise: a.sample_with(o, z)  # noqa: E731
                times[key].append(_time(call, calls))
        for key in actors:
            print(f"| {name} | {key} | {statistics.median(times[key]):,.0f} |", flush=True)


if __name__ == "__main__":
    main()
