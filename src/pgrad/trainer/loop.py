"""The training loop: collect -> update -> record -> evaluate when due -> log.

Stopping: after each update the policy is evaluated (E episodes stepped together, actions sampled
as in training) when the update's batch reached the target return, every ``eval_interval``
updates, and once the step budget is spent (:mod:`pgrad.trainer.evaluation`). The run is *solved*
when an evaluation reaches the target and its confirmation on fresh episodes does too; training
stops there. Otherwise it stops at the first update boundary at or past ``total_env_steps`` (an
episodic batch never cuts an episode, so the last batch may overshoot the budget by less than one
batch). ``--target-return none`` never stops early.

Timing: ``train_seconds`` is the loop's wall time minus evaluations (sampling, the update,
logging and the progress bar are all on the clock); ``rollout_seconds`` is the part spent
sampling; ``eval_seconds`` the evaluations'. Ctrl-C stops it early: the policy as it is then is
evaluated and every output is still written, with ``"interrupted": true`` in the summary.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from gymnasium.vector import VectorEnv
from rich.console import Console

from pgrad.algos import Algorithm, algorithm
from pgrad.config import TrainConfig
from pgrad.envs.make import make_vector_env
from pgrad.errors import NonFiniteError, PgradError
from pgrad.policies.mlp import MLPPolicy, PolicySpec, build_policy
from pgrad.rollout.batch import Sampler
from pgrad.rollout.evaluate import Evaluation
from pgrad.trainer.callbacks import Callbacks, Progress
from pgrad.trainer.checkpoint import CHECKPOINT_DIR, save_policy
from pgrad.trainer.evaluation import EvaluationSchedule
from pgrad.trainer.files import atomic_write_text, dumps_strict
from pgrad.trainer.logging import MetricsLogger
from pgrad.trainer.plots import PlotWorker, plot_learning_curve
from pgrad.trainer.progress import TrainingProgress
from pgrad.trainer.provenance import versions
from pgrad.trainer.resume import latest_checkpoint, load_run_state, save_run_state
from pgrad.trainer.run_dir import check_run_dir, create_run_dir, default_run_dir
from pgrad.trainer.signals import StopSignals
from pgrad.trainer.state import TrainState, new_train_state
from pgrad.trainer.tracking import NoTracker, Tracker, make_tracker


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
    psi: str
    transitions: int = 0
    """Real transitions trained on (``env_steps`` also counts the steps of idle copies)."""
    failure: str | None = None
    """What went non-finite, when the run stopped for it."""
    eval_steps: int = 0
    """Environment steps the evaluations simulated (confirmations and the final one included)."""
    stopped_by: str | None = None
    """Why a callback stopped the run, if one did."""

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary of the run."""
        return {
            "solved": self.solved,
            "interrupted": self.interrupted,
            "failure": self.failure,
            "stopped_by": self.stopped_by,
            "env_steps": self.env_steps,
            "updates": self.updates,
            "episodes": self.episodes,
            "transitions": self.transitions,
            "idle_steps": self.env_steps - self.transitions,
            "train_seconds": round(self.train_seconds, 4),
            "rollout_seconds": round(self.rollout_seconds, 4),
            "eval_seconds": round(self.eval_seconds, 4),
            "eval_steps": self.eval_steps,
            "steps_per_second": round(self.env_steps / max(self.train_seconds, 1e-9)),
            "rollout_steps_per_second": round(self.env_steps / max(self.rollout_seconds, 1e-9)),
            "wall_seconds": round(self.wall_seconds, 4),
            "eval_mean": self.evaluation.mean,
            "eval_std": self.evaluation.std,
            "eval_episodes": self.evaluation.episodes,
            "target_return": self.target_return,
            "psi": self.psi,
            "run_dir": str(self.run_dir),
            "versions": versions(),
        }


@dataclass
class Run:
    """A run's outputs: its directory, metrics sinks, checkpoint schedule and metadata."""

    dir: Path
    logger: MetricsLogger
    meta: dict[str, Any]
    title: str
    target: float | None
    wall_start: float
    created: bool
    """Whether this session created the directory (removed again if it fails before an update)."""
    checkpoint_steps: int
    checkpoint_seconds: float
    keep: int
    last_checkpoint: tuple[int, float] = (-1, 0.0)
    """(update, wall time) of the last resumable checkpoint."""
    tracker: Tracker = field(default_factory=NoTracker)
    """Experiment tracking (``--track``), or none."""

    def checkpoint_if_due(self, state: TrainState, stopping: bool = False) -> None:
        """Save a resumable checkpoint when due, when the run stops, or at its end."""
        update, at = self.last_checkpoint
        if update == state.counters.updates:
            return
        steps = state.counters.env_steps
        since = steps - (state.history[update - 1]["env_steps"] if update > 0 else 0)
        slow = self.checkpoint_seconds > 0 and time.perf_counter() - at >= self.checkpoint_seconds
        if stopping or state.finished or since >= self.checkpoint_steps or slow:
            tensors, data = state.state_dict()
            save_run_state(self.dir / CHECKPOINT_DIR, f"{state.counters.updates:08d}", tensors,
                           data, self.keep)  # fmt: skip
            self.last_checkpoint = (state.counters.updates, time.perf_counter())


def train(
    cfg: TrainConfig,
    console: Console | None = None,
    plotter: PlotWorker | None = None,
    resume: Path | None = None,
    callbacks: Callbacks | None = None,
) -> TrainResult:
    """Train ``cfg``'s algorithm as ``cfg`` says, writing a run directory; return the result.

    ``plotter`` draws the learning curve (the command line passes a :class:`PlotWorker` started
    before torch was imported); without one it is drawn in-process. ``resume``: a run directory
    to continue from its newest complete checkpoint (``cfg`` is its config, or one that differs
    only in the budget or the progress bar). ``callbacks``: the user's hooks
    (:mod:`pgrad.trainer.callbacks`).

    Raises:
        PgradError: bad environment id, unsupported spaces or an existing run directory; raised
            before anything is written.
    """
    with StopSignals() as signals:
        state, run = start(cfg, resume)
        try:
            loop(state, run, signals, console or Console(stderr=True), callbacks or Callbacks())
        except Exception:
            run.tracker.finish(None)
            if run.created and state.counters.updates == 0:  # nothing learned: leave no directory
                shutil.rmtree(run.dir, ignore_errors=True)
            raise
        result = finish(state, run, plotter)
        run.tracker.finish(result.summary() if state.failure is None else None)
    if state.failure is not None:
        raise NonFiniteError(failure_message(state, run))
    return result


def failure_message(state: TrainState, run: Run) -> str:
    """What went non-finite, where the last good policy and checkpoint are, what to try."""
    latest = latest_checkpoint(run.dir)
    where = f"the last checkpoint is {latest}" if latest else "no checkpoint was written"
    return (f"{state.failure}; the run stopped there, before any of it reached the weights: "
            f"{run.dir / CHECKPOINT_DIR / 'final.safetensors'} holds the last good policy (update "
            f"{state.counters.updates}) and {where}; check the environment, or lower --lr")


def loop(state: TrainState, run: Run, signals: StopSignals, console: Console,
         callbacks: Callbacks) -> None:  # fmt: skip
    """Collect, update, record, evaluate when due, log, call back, checkpoint when due; until
    finished."""
    cfg = state.cfg
    try:
        with TrainingProgress(cfg.run.total_env_steps, cfg.env.id, cfg.run.progress,
                              console) as bar:  # fmt: skip
            state.clock.begin()
            while not state.finished:
                batch = state.collect()
                metrics = state.update(batch)
                row = state.record(batch, metrics)
                state.evaluate_if_due(row)
                run.logger.log(row)
                run.tracker.log(row)
                if callbacks:
                    state.stopped_by = callbacks.after_update(progress_of(state, run, row))
                state.interrupted = signals.received is not None
                run.checkpoint_if_due(state)
                bar.update(state.counters.env_steps, row["time/train_seconds"],
                           row["rollout/ep_return_mean"])  # fmt: skip
    except KeyboardInterrupt:  # raised inside an update: the last checkpoint stands
        state.interrupted = True
    except NonFiniteError as exc:  # stopped before the weights; the last checkpoint stands
        state.failure = str(exc)
    finally:
        state.clock.stop()
        run.logger.close()
        state.sampler.close()


def progress_of(state: TrainState, run: Run, row: dict[str, float]) -> Progress:
    """What the callbacks see of this update (the evaluation, when one ran at it)."""
    evaluated = "eval/return_mean" in row
    return Progress(state.counters.updates, state.counters.env_steps, dict(row), state.policy,
                    run.dir, state.last_evaluation if evaluated else None)  # fmt: skip


def start(cfg: TrainConfig, resume: Path | None = None) -> tuple[TrainState, Run]:
    """Build every part of a run (and restore a resumed one), then create its directory;
    nothing is written on bad input."""
    wall_start = time.perf_counter()
    torch.set_num_threads(cfg.run.torch_threads)
    run_dir = resume or cfg.run.run_dir or default_run_dir(cfg.env.id, cfg.algo, cfg.run.seed)
    latest = latest_checkpoint(run_dir) if resume else None
    saved = load_run_state(latest) if latest is not None else None
    if resume is None:
        check_run_dir(run_dir)
    state, target = build_state(cfg)
    if saved is not None:
        restore_state(state, saved, run_dir)
    created = resume is None and not run_dir.exists()
    resolved = cfg.replace(run_dir=run_dir)
    logger = None
    try:
        if resume is None:
            create_run_dir(run_dir)
        atomic_write_text(run_dir / "config.json", resolved.dumps() + "\n")
        logger = MetricsLogger(run_dir, cfg.run.tensorboard, state.history if saved else None)
        tracker = make_tracker(cfg.run.track, run_dir, resolved.to_json(), cfg.run.wandb_project,
                               cfg.run.wandb_entity)  # fmt: skip
    except BaseException:
        if logger is not None:
            logger.close()
        state.sampler.close()
        state.evaluation.close()
        if created:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    meta = {"env": cfg.env.id, "algo": cfg.algo, "seed": cfg.run.seed, "config": resolved.to_json()}
    every = cfg.run.checkpoint_every or max(cfg.run.total_env_steps // 10, 1)
    run = Run(run_dir, logger, meta, f"{cfg.env.id} {cfg.algo} seed {cfg.run.seed}", target,
              wall_start, created, every, cfg.run.checkpoint_seconds,
              cfg.run.keep_checkpoints, (state.counters.updates, time.perf_counter()),
              tracker)  # fmt: skip
    return state, run


def build_state(cfg: TrainConfig) -> tuple[TrainState, float | None]:
    """A fresh :class:`TrainState` for ``cfg`` and the return that counts as solved."""
    algo = algorithm(cfg.algo)
    envs, info = make_vector_env(cfg.env)
    try:
        value = cfg.policy.value_network if cfg.needs_value else "none"  # type: ignore[attr-defined]
        p = cfg.policy
        spec = PolicySpec(info, p.hidden_sizes, p.activation, p.init_log_std, value,
                          p.normalize_observations, p.action_dist, p.recurrent,
                          p.recurrent_size)  # fmt: skip
        policy = build_policy(spec, cfg.run.seed)  # an unsupported action space fails here
        target = cfg.eval.target(info.reward_threshold)
        evaluation = EvaluationSchedule(cfg.env, cfg.eval, cfg.run.seed, target)
    except BaseException:
        envs.close()
        raise
    sampler = make_sampler(cfg, algo, envs, policy)
    return new_train_state(cfg, algo, policy, sampler, evaluation), target


def make_sampler(cfg: TrainConfig, algo: Algorithm, envs: VectorEnv, policy: MLPPolicy
                 ) -> Sampler:  # fmt: skip
    """The algorithm's own sampler over ``envs``, or, with ``cfg.run.workers``, its Ray sampler
    (``envs`` then only told the spaces, and is closed)."""
    if not cfg.run.workers:
        return algo.make_sampler(cfg, envs, cfg.run.seed)
    envs.close()
    from pgrad.rollout.remote import RaySampler  # Ray is imported only when workers are asked

    return RaySampler(cfg, policy, algo.make_sampler)


def restore_state(state: TrainState, saved: tuple[dict, dict], run_dir: Path) -> None:
    """Load a checkpoint into a freshly built state, as one clean error if it does not fit."""
    try:
        state.load_state_dict(*saved)
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
        msg = " ".join(str(exc).split())[:200]
        error = PgradError(f"the checkpoint of {run_dir} does not fit its config: {msg}")
    else:  # a finished run resumes only to write outputs a kill prevented
        done = _read_summary(run_dir)
        if not state.finished or done is None or done.get("interrupted"):
            return
        steps = state.counters.env_steps
        if state.solved:
            error = PgradError(f"{run_dir} already finished (solved at {steps:,} env steps), and "
                               "a solved run stops at its target; to train on, start a new run: "
                               f"pgrad train --config {run_dir / 'config.json'} --run-dir NEW "
                               "--target-return none")  # fmt: skip
        else:
            error = PgradError(f"{run_dir} already finished (its budget spent at {steps:,} env "
                               "steps); resume with a larger --total-env-steps to train on")
    state.sampler.close()
    state.evaluation.close()
    raise error


def _read_summary(run_dir: Path) -> dict[str, Any] | None:
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) else None


def finish(state: TrainState, run: Run, plotter: PlotWorker | None) -> TrainResult:
    """Final evaluation, checkpoints (final and best), the learning curve and ``summary.json``."""
    evaluation = state.final_evaluation()
    state.evaluation.close()
    c, checkpoints = state.counters, run.dir / CHECKPOINT_DIR
    save_policy(checkpoints, "final", state.policy, **run.meta, update=c.updates,
                env_steps=c.env_steps, eval_mean=evaluation.mean)  # fmt: skip
    if state.best.state is not None:
        snapshot = MLPPolicy(state.policy.spec)
        snapshot.load_state_dict(state.best.state)
        save_policy(checkpoints, "best", snapshot, **run.meta, **state.best.meta)
    label = "training batch mean return" if state.complete_episodes else (
        f"mean return of the last {state.recent.maxlen} episodes")  # fmt: skip
    draw = plotter.draw if plotter is not None else plot_learning_curve
    draw(state.history, run.target, run.title, run.dir / "learning_curve.png", label)
    result = TrainResult(
        solved=state.solved, interrupted=state.interrupted, env_steps=c.env_steps,
        updates=c.updates, episodes=c.episodes, train_seconds=state.clock.train_seconds,
        rollout_seconds=state.clock.rollout_seconds, eval_seconds=state.clock.eval_seconds,
        wall_seconds=time.perf_counter() - run.wall_start, evaluation=evaluation,
        target_return=run.target, run_dir=run.dir, policy=state.policy,
        psi=state.cfg.recipe.name, failure=state.failure, transitions=c.transitions,
        eval_steps=state.evaluation.steps, stopped_by=state.stopped_by,
    )  # fmt: skip
    atomic_write_text(run.dir / "summary.json", dumps_strict(result.summary(), indent=2) + "\n")
    return result
