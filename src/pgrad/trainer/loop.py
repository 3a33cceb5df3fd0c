"""The training loop: sample -> estimate and update -> log -> evaluate -> checkpoint.

Stopping: after each update the loop evaluates the policy (E episodes stepped together, actions
sampled as in training) when the update's batch reached the target return, every
``eval_interval`` updates, and once the step budget is spent. The run is *solved* when an
evaluation's mean return reaches the target (and, with ``confirm_episodes``, a second evaluation
on that many fresh episodes does too); training stops there. Otherwise it stops at the first
update boundary at or past ``total_env_steps`` (an update never cuts an episode, so the last batch
may overshoot the budget by less than one batch).

Timing: ``train_seconds`` is the loop's wall time minus evaluations (sampling, the update,
logging, checkpoints and the progress bar are all on the clock); ``rollout_seconds`` is the part
spent sampling, so ``env_steps / rollout_seconds`` is the rollout's own limit, measured on the
very policies the run trained; ``eval_seconds`` is the evaluations' (and confirmations') time
during training. Ctrl-C stops it early: the policy as it is then
is evaluated and every output is still written, with ``"interrupted": true`` in the summary.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console

from pgrad.algos import ALGORITHMS
from pgrad.algos.common import RewardScaler, make_optimizer, set_learning_rate
from pgrad.config import Config
from pgrad.envs.make import make_vector_env
from pgrad.policies.mlp import MLPPolicy, PolicySpec, build_policy
from pgrad.rollout.episodes import EpisodeBatch, EpisodeSampler
from pgrad.rollout.evaluate import Evaluation, Evaluator
from pgrad.rollout.fixed import FixedLengthSampler, Rollout
from pgrad.trainer.checkpoint import CHECKPOINT_DIR, save_policy
from pgrad.trainer.logging import MetricsLogger
from pgrad.trainer.plots import PlotWorker, plot_learning_curve
from pgrad.trainer.progress import TrainingProgress
from pgrad.trainer.run_dir import check_run_dir, create_run_dir, default_run_dir

RECENT_EPISODES = 100
"""Fixed-length rollouts report the mean return of the last this many finished episodes."""

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
    rollout_seconds: float
    eval_seconds: float
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
            "rollout_seconds": round(self.rollout_seconds, 4),
            "eval_seconds": round(self.eval_seconds, 4),
            "steps_per_second": round(self.env_steps / max(self.train_seconds, 1e-9)),
            "rollout_steps_per_second": round(self.env_steps / max(self.rollout_seconds, 1e-9)),
            "wall_seconds": round(self.wall_seconds, 4),
            "eval_mean": self.evaluation.mean,
            "eval_std": self.evaluation.std,
            "eval_episodes": self.evaluation.episodes,
            "target_return": self.target_return,
            "run_dir": str(self.run_dir),
        }


def train(
    cfg: Config, console: Console | None = None, plotter: PlotWorker | None = None
) -> TrainResult:
    """Train ``cfg.algo`` as ``cfg`` says, writing a run directory; return the result.

    ``plotter`` draws the learning curve (the command line passes a :class:`PlotWorker` started
    before torch was imported); without one it is drawn in-process.

    Raises:
        PgradError: bad environment id, unsupported spaces or an existing run directory; raised
            before anything is written.
    """
    wall_start = time.perf_counter()
    torch.set_num_threads(cfg.torch_threads)
    run_dir = cfg.run_dir or default_run_dir(cfg.env, cfg.algo, cfg.seed)
    check_run_dir(run_dir)
    envs, info = make_vector_env(cfg.env, cfg.num_envs, cfg.max_episode_steps)
    evaluator = Evaluator(
        cfg.env, cfg.eval_episodes, cfg.seed + EVAL_SEED_OFFSET, cfg.max_episode_steps
    )
    confirmer: Evaluator | None = None  # built when first needed: it may hold 1000 copies
    target = cfg.target_return if cfg.target_return is not None else info.reward_threshold
    create_run_dir(run_dir)
    resolved = dataclasses.replace(cfg, run_dir=run_dir)
    (run_dir / "config.json").write_text(resolved.dumps() + "\n")

    value = cfg.value_network if cfg.baseline == "value" else "none"
    spec = PolicySpec(info, cfg.hidden_sizes, cfg.activation, cfg.init_log_std, value,
                      cfg.normalize_observations)  # fmt: skip
    policy = build_policy(spec, cfg.seed)
    optimizer = make_optimizer(policy, cfg)
    generator = torch.Generator().manual_seed(cfg.seed)  # the update's own draws (minibatches)
    rng = np.random.default_rng(cfg.seed)  # the rollout's action samples
    algorithm = ALGORITHMS[cfg.algo]
    sampler: EpisodeSampler | FixedLengthSampler
    if cfg.episodic:
        sampler = EpisodeSampler(envs, seed=cfg.seed)
    else:
        sampler = FixedLengthSampler(envs, cfg.num_steps, seed=cfg.seed)
    scaler = RewardScaler() if cfg.normalize_rewards else None
    logger = MetricsLogger(run_dir, tensorboard=cfg.tensorboard)
    checkpoints = run_dir / CHECKPOINT_DIR
    meta = {"env": cfg.env, "algo": cfg.algo, "seed": cfg.seed, "config": resolved.to_json()}

    env_steps = episodes = updates = 0
    train_seconds = rollout_seconds = eval_seconds = 0.0
    best = -math.inf
    solved = False
    evaluation: Evaluation | None = None
    best_state: dict[str, torch.Tensor] | None = None
    best_meta: dict[str, Any] = {}
    recent: deque[float] = deque(maxlen=RECENT_EPISODES)
    rows: list[dict[str, float]] = []
    console = console or Console(stderr=True)
    title = f"{cfg.env} {cfg.algo} seed {cfg.seed}"  # plot title; the bar shows the env id
    interrupted = False
    try:
        with TrainingProgress(cfg.total_env_steps, cfg.env, cfg.progress, console) as bar:
            while not solved and env_steps < cfg.total_env_steps:
                tick = time.perf_counter()
                lr = set_learning_rate(optimizer, cfg, env_steps / cfg.total_env_steps)
                if isinstance(sampler, EpisodeSampler):
                    batch: EpisodeBatch | Rollout = sampler.collect(
                        policy, cfg.episodes_per_update, rng
                    )
                    returns = batch.episode_returns().tolist()
                    lengths = batch.lengths.tolist()
                    recent.clear()  # an episodic batch reports its own m episodes
                else:
                    batch = sampler.collect(policy, rng)
                    returns, lengths = batch.episode_returns, batch.episode_lengths
                rollout_seconds += time.perf_counter() - tick
                learn = scaler.scale(batch, cfg.gamma) if scaler is not None else batch
                metrics = algorithm.update(policy, optimizer, learn, cfg, generator)
                policy.update_observation_stats(batch.obs[batch.mask.bool()])
                updates += 1
                env_steps += batch.env_steps
                episodes += len(returns)
                recent.extend(returns)
                window = np.array(recent) if recent else np.array([math.nan])
                row = {
                    "update": updates,
                    "env_steps": env_steps,
                    "episodes": episodes,
                    "time/train_seconds": train_seconds + time.perf_counter() - tick,
                    "time/rollout_seconds": rollout_seconds,
                    "rollout/ep_return_mean": float(window.mean()),
                    "rollout/ep_return_std": float(window.std()),
                    "rollout/ep_length_mean": float(np.mean(lengths)) if lengths else math.nan,
                    "opt/lr": lr,
                    **metrics,
                }
                reached = target is not None and row["rollout/ep_return_mean"] >= target
                periodic = cfg.eval_interval > 0 and updates % cfg.eval_interval == 0
                if reached or periodic or env_steps >= cfg.total_env_steps:
                    evaluating = time.perf_counter()
                    train_seconds += evaluating - tick  # evaluation is off the clock
                    evaluation = evaluator.run(policy)
                    row["eval/return_mean"] = evaluation.mean
                    row["eval/return_std"] = evaluation.std
                    solved = target is not None and evaluation.mean >= target
                    if solved and cfg.confirm_episodes > 0:  # a lucky draw must hold up
                        if confirmer is None:
                            confirmer = Evaluator(cfg.env, cfg.confirm_episodes,
                                                  cfg.seed + 2 * EVAL_SEED_OFFSET,
                                                  cfg.max_episode_steps)  # fmt: skip
                        confirmation = confirmer.run(policy)
                        row["eval/confirm_mean"] = confirmation.mean
                        solved = confirmation.mean >= target
                    tick = time.perf_counter()
                    eval_seconds += tick - evaluating
                    if evaluation.mean > best:  # kept in memory, written once at the end
                        best = evaluation.mean
                        best_state = {k: v.clone() for k, v in policy.state_dict().items()}
                        best_meta = dict(update=updates, env_steps=env_steps, eval_mean=best)
                logger.log(row)
                rows.append(row)
                rate = env_steps / max(row["time/train_seconds"], 1e-9)
                bar.update(env_steps, rate, row["rollout/ep_return_mean"])
                train_seconds += time.perf_counter() - tick
    except KeyboardInterrupt:  # Ctrl-C: keep what was learned, write every output, then stop
        interrupted = True
    finally:
        logger.close()
        envs.close()
    if interrupted or evaluation is None:  # the last evaluation may predate the final policy
        evaluation = evaluator.run(policy)
        solved = target is not None and evaluation.mean >= target
    evaluator.close()
    if confirmer is not None:
        confirmer.close()

    save_policy(checkpoints, "final", policy, **meta, update=updates, env_steps=env_steps,
                eval_mean=evaluation.mean)  # fmt: skip
    if best_state is not None:
        snapshot = MLPPolicy(policy.spec)
        snapshot.load_state_dict(best_state)
        save_policy(checkpoints, "best", snapshot, **meta, **best_meta)
    if plotter is not None:
        plotter.draw(rows, target, title, run_dir / "learning_curve.png")
    else:
        plot_learning_curve(rows, target, title, run_dir / "learning_curve.png")
    result = TrainResult(
        solved=solved,
        interrupted=interrupted,
        env_steps=env_steps,
        updates=updates,
        episodes=episodes,
        train_seconds=train_seconds,
        rollout_seconds=rollout_seconds,
        eval_seconds=eval_seconds,
        wall_seconds=time.perf_counter() - wall_start,
        evaluation=evaluation,
        target_return=target,
        run_dir=run_dir,
        policy=policy,
    )
    (run_dir / "summary.json").write_text(json.dumps(result.summary(), indent=2) + "\n")
    return result
