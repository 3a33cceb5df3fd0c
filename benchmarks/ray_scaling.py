"""Sampling throughput on Ray with 1 and 2 workers, beside the same copies sampled in process, and
Ray's overhead per update (weights out, batches back).

    python benchmarks/ray_scaling.py --env HalfCheetah-v5 --num-envs 2 --batches 6
    python benchmarks/ray_scaling.py --env CartPole-v1 --num-envs 8 --batches 20

PPO's sampler at its defaults (``num_steps`` steps per copy), one thread per process. Each
figure is the median time of one ``collect`` (no update); the first batch is a warm-up. "in
process, copy by copy" runs the copies the way a Ray worker does (each copy its own one-copy
sampler), so the difference between it and one worker is Ray's overhead: putting the weights
into the object store, the remote call, and the batch coming back.
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import time

import torch

import pgrad
from pgrad.algos import algorithm
from pgrad.envs.make import make_vector_env
from pgrad.policies.mlp import PolicySpec, build_policy
from pgrad.rollout.batch import concat_rows
from pgrad.rollout.remote import RaySampler, SamplerWorker, start_ray


def policy_for(cfg):
    envs, info = make_vector_env(cfg.env)
    envs.close()
    p = cfg.policy
    spec = PolicySpec(info, p.hidden_sizes, p.activation, p.init_log_std, p.value_network,
                      p.normalize_observations)  # fmt: skip
    return build_policy(spec, cfg.run.seed)


def timed(collect, batches: int) -> tuple[float, int]:
    """The median seconds per batch and the env steps per batch, the first batch left out (the
    median, since Ray's own processes share the two cores with the workers and now and then
    delay one batch)."""
    collect()
    seconds, steps = [], 0
    for _ in range(batches):
        tick = time.perf_counter()
        steps = collect().env_steps
        seconds.append(time.perf_counter() - tick)
    return statistics.median(seconds), steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--num-envs", type=int, default=2)
    parser.add_argument("--num-steps", type=int, default=2048)
    parser.add_argument("--batches", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = pgrad.make_config("ppo", env=args.env, num_envs=args.num_envs,
                            num_steps=args.num_steps, workers=1)  # fmt: skip
    policy = policy_for(cfg)
    make = algorithm("ppo").make_sampler
    local = SamplerWorker(cfg, policy.spec, list(range(args.num_envs)), make)
    weights = {k: v.detach().clone() for k, v in policy.state_dict().items()}  # as sent
    rows: list[tuple[str, float, int]] = []
    def in_process():
        return concat_rows([b for _, b, _ in local.collect(weights)])

    seconds, steps = timed(in_process, args.batches)
    rows.append(("in process, copy by copy", seconds, steps))
    batch_bytes = len(pickle.dumps(in_process()))
    weight_bytes = len(pickle.dumps(weights))
    local.close()
    start_ray("", num_cpus=2)
    for workers in (1, 2):
        sampler = RaySampler(cfg.replace(workers=workers), policy, make)
        seconds, steps = timed(lambda sampler=sampler: sampler.collect(policy), args.batches)
        rows.append((f"Ray, {workers} worker{'s' * (workers > 1)}", seconds, steps))
        sampler.close()
    print(f"{args.env}, {args.num_envs} copies x {args.num_steps} steps per batch, "
          f"{args.batches} batches\n")
    print("| sampler | ms per batch | steps/s | vs one worker |")
    print("|---|---:|---:|---:|")
    one = rows[1][1]
    for name, seconds, steps in rows:
        print(f"| {name} | {seconds * 1e3:,.1f} | {steps / seconds:,.0f} | {one / seconds:.2f}x |")
    print(f"\nRay's overhead per update (one worker minus in process): "
          f"{(rows[1][1] - rows[0][1]) * 1e3:,.1f} ms")
    print(f"Sent per update: weights {weight_bytes / 1e3:,.1f} kB; returned: batch "
          f"{batch_bytes / 1e3:,.1f} kB ({batch_bytes / steps:,.0f} bytes per step)")


if __name__ == "__main__":
    main()
