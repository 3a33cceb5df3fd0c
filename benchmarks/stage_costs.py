"""Where a PPO run's time goes, per environment step: env, acting, storing, batch forward,
advantages, update.

    python benchmarks/stage_costs.py --env HalfCheetah-v5 --rollouts 6

PPO at CleanRL's MuJoCo settings (those of ``benchmarks/mujoco_speed.py``), one thread, in this
process. The run's own trainer state does the work (``pgrad.trainer.loop.build_state``); timers
wrap the functions each stage calls, so the figures come from a real run, not a replay:

- env: the vector environment's step (Gymnasium's, plus pgrad's flatten);
- acting: the actor's forward pass and sampling;
- storing: the rest of the rollout loop (writing the step into the buffers);
- batch: log pi_old and V of the whole rollout (one batched forward, ``make_batch``);
- advantages: GAE and value targets (``estimate``);
- update: the epochs of minibatch steps, and the update's bookkeeping.

The first rollout and update are a warm-up and not counted. Each figure is microseconds per
environment step (an update's cost divided by the steps of its rollout).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import torch

import pgrad
import pgrad.algos.ppo
import pgrad.policies.actor
import pgrad.rollout.fixed
import pgrad.rollout.stepper
from pgrad.trainer.loop import build_state

SECONDS: dict[str, float] = defaultdict(float)


def timed(owner: Any, name: str, stage: str) -> None:
    """Wrap ``owner.name`` so that its calls add to ``SECONDS[stage]``."""
    inner: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tick = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            SECONDS[stage] += time.perf_counter() - tick

    setattr(owner, name, wrapper)


def instrument() -> None:
    """Timers around each stage's function (the names of this version of pgrad)."""
    timed(pgrad.rollout.stepper.VectorStepper, "step", "env")
    for actor in ("NumpyActor", "TorchActor"):
        timed(getattr(pgrad.policies.actor, actor), "sample_with", "acting")
    timed(pgrad.rollout.fixed, "make_batch", "batch")
    timed(pgrad.algos.ppo, "estimate", "advantages")


def settings(env: str, rollouts: int) -> dict[str, Any]:
    """CleanRL's PPO settings for MuJoCo, ``rollouts`` rollouts of 2048 steps, no evaluation."""
    return dict(env=env, num_envs=1, num_steps=2048, update_epochs=10, num_minibatches=32,
                hidden_sizes=(64, 64), activation="tanh", gamma=0.99, gae_lambda=0.95,
                clip_coef=0.2, lr=3e-4, value_lr=3e-4, lr_schedule="linear", max_grad_norm=0.5,
                entropy_coef=0.0, normalize_observations=True, normalize_rewards=True,
                total_env_steps=2048 * rollouts, target_return="none", eval_interval=10**9,
                eval_episodes=1, torch_threads=1, progress=False, tensorboard=False,
                run_dir=tempfile.mkdtemp() + "/run")  # fmt: skip


def measure(env: str, rollouts: int) -> dict[str, float]:
    """Microseconds per environment step of each stage, over ``rollouts - 1`` rollouts."""
    torch.set_num_threads(1)
    state, _ = build_state(pgrad.make_config("ppo", **settings(env, rollouts)))
    instrument()
    totals: dict[str, float] = defaultdict(float)
    steps = 0
    for rollout in range(rollouts):
        SECONDS.clear()
        tick = time.perf_counter()
        batch = state.collect()
        collected = time.perf_counter()
        state.update(batch)
        done = time.perf_counter()
        if rollout == 0:
            continue
        steps += batch.env_steps
        totals["env"] += SECONDS["env"]
        totals["acting"] += SECONDS["acting"]
        totals["batch"] += SECONDS["batch"]
        totals["storing"] += (collected - tick) - SECONDS["env"] - SECONDS["acting"] - SECONDS[
            "batch"]  # fmt: skip
        totals["advantages"] += SECONDS["advantages"]
        totals["update"] += (done - collected) - SECONDS["advantages"]
    state.sampler.close()
    return {stage: seconds / steps * 1e6 for stage, seconds in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--rollouts", type=int, default=6)
    args = parser.parse_args()
    costs = measure(args.env, args.rollouts)
    total = sum(costs.values())
    print(f"{args.env}, PPO at CleanRL's settings, {args.rollouts - 1} rollouts of 2048 steps\n")
    print("| stage | us per env step | share |")
    print("|---|---:|---:|")
    for stage in ("env", "acting", "storing", "batch", "advantages", "update"):
        print(f"| {stage} | {costs[stage]:.1f} | {costs[stage] / total:.0%} |")
    print(f"| total | {total:.1f} | {1e6 / total:,.0f} steps/s |")


if __name__ == "__main__":
    main()
