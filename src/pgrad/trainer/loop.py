"""The training loop: sample -> estimate and update -> log -> evaluate -> checkpoint.

Stopping: after each update the loop evaluates the policy (E episodes stepped together, actions
sampled as in training) when the update's batch reached the target return, every
``eval_interval`` updates, and once the step budget is spent. The run is *solved* when an
evaluation's mean return reaches the target; training stops there. Otherwise it stops at the first
update boundary at or past ``total_env_steps`` (an update never cuts an episode, so the last batch
may overshoot the budget by less than one batch). Ctrl-C stops it early: the policy as it is then
is evaluated and every output is still written, with ``"interrupted": true`` in the summary.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from pgrad.algos import reinforce
from pgrad.config import Config
from pgrad.envs.make import make_vector_env
from pgrad.policies.mlp import MLPPolicy, PolicySpec, build_policy
from pgrad.rollout.episodes import EpisodeSampler
from pgrad.rollout.evaluate import Evaluation, Evaluator
from pgrad.trainer.checkpoint import CHECKPOINT_DIR, save_policy
from pgrad.trainer.logging import MetricsLogger
from pgrad.trainer.progress import TrainingProgress
from pgrad.trainer.run_dir import check_run_dir, create_run_dir, default_run_dir

EVAL_SEED_OFFSET = 1_000_003
"""Evaluation environments and sampling use seed + this, apart from training's streams."""


@dataclass(frozen=True)
class TrainResult:
    """What a run achieved; ``summary()`` is what ``summary.json`` holds."""

    solved: bool
    interrupted: bool
    env_steps: int
    updates: int
    episodes: int
    train_seconds: float
    wall_seconds: float
    evaluation: Evaluation
    target_return: float | None
    run_dir: Path
    policy: MLPPolicy

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary of the run."""
        return {
            "solved": self.solved,
            "interrupted": self.interrupted,
            "env_steps": self.env_steps,
            "updates": self.updates,
            "episodes": self.episodes,
            "train_seconds": round(self.train_seconds, 4),
            "wall_seconds": round(self.wall_seconds, 4),
            "eval_mean": self.evaluation.mean,
            "eval_std": self.evaluation.std,
            "eval_episodes": self.evaluation.episodes,
            "target_return": self.target_return,
            "run_dir": str(self.run_dir),
        }


def train(cfg: Config, console: Console | None = None) -> TrainResult:
    """Train REINFORCE as ``cfg`` says, writing a run directory; return the result.

    Raises:
        PgradError: bad environment id, unsupported spaces or an existing run directory; raised
            before anything is written.
    """
    wall_start = time.perf_counter()
    torch.set_num_threads(cfg.torch_threads)
    run_dir = cfg.run_dir or default_run_dir(cfg.env, "reinforce", cfg.seed)
    check_run_dir(run_dir)
    envs, info = make_vector_env(cfg.env, cfg.num_envs, cfg.max_episode_steps)
    evaluator = Evaluator(
        cfg.env, cfg.eval_episodes, cfg.seed + EVAL_SEED_OFFSET, cfg.max_episode_steps
    )
    target = cfg.target_return if cfg.target_return is not None else info.reward_threshold
    create_run_dir(run_dir)
    resolved = dataclasses.replace(cfg, run_dir=run_dir)
    (run_dir / "config.json").write_text(resolved.dumps() + "\n")

    spec = PolicySpec(info, cfg.hidden_sizes, cfg.activation, cfg.init_log_std)
    policy = build_policy(spec, cfg.seed)
    optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.lr)
    generator = torch.Generator().manual_seed(cfg.seed)
    sampler = EpisodeSampler(envs, seed=cfg.seed)
    logger = MetricsLogger(run_dir, tensorboard=cfg.tensorboard)
    checkpoints = run_dir / CHECKPOINT_DIR
    meta = {"env": cfg.env, "seed": cfg.seed, "config": resolved.to_json()}

    env_steps = episodes = updates = 0
    train_seconds, best = 0.0, -math.inf
    solved = False
    evaluation: Evaluation | None = None
    rows: list[dict[str, float]] = []
    console = console or Console(stderr=True)
    title = f"{cfg.env} reinforce seed {cfg.seed}"  # plot title; the bar shows the env id
    interrupted = False
    try:
        with TrainingProgress(cfg.total_env_steps, cfg.env, cfg.progress, console) as bar:
            while not solved and env_steps < cfg.total_env_steps:
                tick = time.perf_counter()
                batch = sampler.collect(policy, cfg.episodes_per_update, generator)
                metrics = reinforce.update(policy, optimizer, batch, cfg.gamma)
                train_seconds += time.perf_counter() - tick
                updates += 1
                env_steps += batch.env_steps
                episodes += batch.num_episodes
                returns = batch.episode_returns()
                row = {
                    "update": updates,
                    "env_steps": env_steps,
                    "episodes": episodes,
                    "time/train_seconds": train_seconds,
                    "rollout/ep_return_mean": float(returns.mean()),
                    "rollout/ep_return_std": float(returns.std(correction=0)),
                    "rollout/ep_length_mean": float(batch.lengths.double().mean()),
                    **metrics,
                }
                reached = target is not None and row["rollout/ep_return_mean"] >= target
                periodic = cfg.eval_interval > 0 and updates % cfg.eval_interval == 0
                if reached or periodic or env_steps >= cfg.total_env_steps:
                    evaluation = evaluator.run(policy)
                    row["eval/return_mean"] = evaluation.mean
                    row["eval/return_std"] = evaluation.std
                    solved = target is not None and evaluation.mean >= target
                    if evaluation.mean > best:
                        best = evaluation.mean
                        save_policy(checkpoints, "best", policy, **meta, update=updates,
                                    env_steps=env_steps, eval_mean=evaluation.mean)  # fmt: skip
                logger.log(row)
                rows.append(row)
                bar.update(env_steps, env_steps / train_seconds, row["rollout/ep_return_mean"])
    except KeyboardInterrupt:  # Ctrl-C: keep what was learned, write every output, then stop
        interrupted = True
    finally:
        logger.close()
        envs.close()
    if interrupted or evaluation is None:  # the last evaluation may predate the final policy
        evaluation = evaluator.run(policy)
        solved = target is not None and evaluation.mean >= target
    evaluator.close()

    save_policy(checkpoints, "final", policy, **meta, update=updates, env_steps=env_steps,
                eval_mean=evaluation.mean)  # fmt: skip
    from pgrad.trainer.plots import plot_learning_curve  # matplotlib only once the run is done

    plot_learning_curve(rows, target, title, run_dir / "learning_curve.png")
    result = TrainResult(
        solved=solved,
        interrupted=interrupted,
        env_steps=env_steps,
        updates=updates,
        episodes=episodes,
        train_seconds=train_seconds,
        wall_seconds=time.perf_counter() - wall_start,
        evaluation=evaluation,
        target_return=target,
        run_dir=run_dir,
        policy=policy,
    )
    (run_dir / "summary.json").write_text(json.dumps(result.summary(), indent=2) + "\n")
    return result
