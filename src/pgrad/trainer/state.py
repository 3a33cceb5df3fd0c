"""The state of a training run: everything that determines the rest of it.

:class:`TrainState` holds the policy and optimiser (their ``state_dict`` s), the observation
statistics (buffers of the policy), the reward scaler, every random stream (the update's torch
generator; the sampler's action noise and environments; the evaluations' own), the counters and
clocks, the best policy so far and the metrics history. Its methods are the stages of one
iteration of the loop (:func:`pgrad.trainer.loop.train`): collect, update, record, evaluate.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from pgrad.algos import Algorithm
from pgrad.algos.adam import Adam
from pgrad.algos.common import RewardScaler, make_optimizer, set_learning_rate
from pgrad.config import TrainConfig
from pgrad.errors import NonFiniteError
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.batch import Batch, Sampler
from pgrad.rollout.evaluate import Evaluation
from pgrad.trainer.evaluation import EvaluationSchedule

RECENT_EPISODES = 100
"""Fixed-length rollouts report the mean return and length of the last this many episodes."""


@dataclass
class Counters:
    """Progress of the run."""

    updates: int = 0
    env_steps: int = 0
    episodes: int = 0
    transitions: int = 0
    """Real transitions trained on; ``env_steps - transitions`` steps were simulated idle."""


@dataclass
class Clock:
    """Wall-clock seconds: the loop's, and the parts spent sampling and evaluating."""

    start: float = 0.0
    end: float | None = None
    rollout_seconds: float = 0.0
    eval_seconds: float = 0.0
    carried: float = 0.0
    """Training seconds of earlier sessions of a resumed run."""
    eval_at_begin: float = 0.0

    def begin(self) -> None:
        """Start the loop's clock."""
        self.start, self.end, self.eval_at_begin = time.perf_counter(), None, self.eval_seconds

    def stop(self) -> None:
        """Stop it when the loop ends (final evaluation and outputs are not training)."""
        self.end = time.perf_counter()

    @property
    def train_seconds(self) -> float:
        """The loop's time so far (or until :meth:`stop`), evaluations excluded."""
        now = time.perf_counter() if self.end is None else self.end
        return self.carried + now - self.start - (self.eval_seconds - self.eval_at_begin)


@dataclass
class Best:
    """The policy with the best evaluation mean so far (kept in memory, written at the end)."""

    mean: float = -math.inf
    state: dict[str, torch.Tensor] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainState:
    """Everything that determines the rest of a run (see the module docstring)."""

    cfg: Any  # the algorithm's TrainConfig
    algorithm: Algorithm
    policy: MLPPolicy
    optimizer: Adam
    sampler: Sampler
    evaluation: EvaluationSchedule
    generator: torch.Generator
    scaler: RewardScaler | None = None
    counters: Counters = field(default_factory=Counters)
    clock: Clock = field(default_factory=Clock)
    best: Best = field(default_factory=Best)
    history: list[dict[str, float]] = field(default_factory=list)
    recent: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=RECENT_EPISODES))
    last_evaluation: Evaluation | None = None
    lr: float = 0.0
    complete_episodes: bool = True
    solved: bool = False
    interrupted: bool = False
    failure: str | None = None
    """What went non-finite, if the run had to stop for it."""
    stopped_by: str | None = None
    """Why a callback stopped the run, if one did."""

    @property
    def finished(self) -> bool:
        """Solved, interrupted, failed, stopped by a callback, or the budget spent."""
        budget = self.counters.env_steps >= self.cfg.run.total_env_steps
        stopped = self.failure is not None or self.stopped_by is not None
        return self.solved or self.interrupted or stopped or budget

    def collect(self) -> Batch:
        """One batch from the sampler, with the schedule's learning rate set for its update."""
        progress = self.counters.env_steps / self.cfg.run.total_env_steps
        self.lr = set_learning_rate(self.optimizer, self.cfg, progress)
        tick = time.perf_counter()
        batch = self.sampler.collect(self.policy)
        self.clock.rollout_seconds += time.perf_counter() - tick
        return batch

    def update(self, batch: Batch) -> dict[str, float]:
        """The algorithm's update on the (reward-scaled) batch; then the observation statistics.

        Raises:
            NonFiniteError: a NaN or infinity in the batch, a loss, a gradient or the weights;
                the policy is then put back as it was before this update.
        """
        good = {k: v.clone() for k, v in self.policy.state_dict().items()}
        try:
            check_finite(batch)
            learn = batch if self.scaler is None else self.scaler.scale(batch, self.cfg.gamma)
            metrics = self.algorithm.update(self.policy, self.optimizer, learn, self.cfg,
                                            self.generator)  # fmt: skip
            if not all(bool(torch.isfinite(p).all()) for p in self.policy.parameters()):
                raise NonFiniteError("the weights after the optimiser step are not finite")
        except NonFiniteError as exc:
            self.policy.load_state_dict(good)
            raise NonFiniteError(f"{exc} at update {self.counters.updates + 1}") from None
        self.policy.update_observation_stats(batch.obs[batch.mask.bool()])
        return metrics

    def record(self, batch: Batch, metrics: dict[str, float]) -> dict[str, float]:
        """Count the batch and return its metrics row (returns and lengths over one window)."""
        c = self.counters
        c.updates, c.env_steps = c.updates + 1, c.env_steps + batch.env_steps
        c.episodes += len(batch.episode_returns)
        c.transitions += batch.transitions
        self.complete_episodes = batch.complete_episodes
        if batch.complete_episodes:
            self.recent.clear()  # an episodic batch reports its own m episodes
        ended = zip(batch.episode_returns.tolist(), batch.episode_lengths.tolist(), strict=True)
        self.recent.extend(ended)
        returns = np.array([r for r, _ in self.recent] or [math.nan])
        lengths = np.array([n for _, n in self.recent] or [math.nan], np.float64)
        row = {
            "update": c.updates, "env_steps": c.env_steps, "episodes": c.episodes,
            "rollout/transitions": c.transitions,
            "rollout/idle_share": 1.0 - batch.transitions / max(batch.env_steps, 1),
            "time/train_seconds": self.clock.train_seconds,
            "time/rollout_seconds": self.clock.rollout_seconds,
            "rollout/ep_return_mean": float(returns.mean()),
            "rollout/ep_return_std": float(returns.std()),
            "rollout/ep_length_mean": float(lengths.mean()), "opt/lr": self.lr, **metrics,
        }  # fmt: skip
        self.history.append(row)
        return row

    def evaluate_if_due(self, row: dict[str, float]) -> None:
        """Evaluate when the schedule says so (off the training clock); keep the best policy."""
        spent = self.counters.env_steps >= self.cfg.run.total_env_steps
        if not self.evaluation.due(self.counters.updates, row["rollout/ep_return_mean"], spent,
                                   self.counters.env_steps):  # fmt: skip
            return
        tick = time.perf_counter()
        outcome = self.evaluation.run(self.policy, train_steps=self.counters.env_steps)
        self.clock.eval_seconds += time.perf_counter() - tick
        ev = outcome.evaluation
        if not np.isfinite(ev.returns).all():
            raise NonFiniteError(f"evaluation returns hold NaN or infinity at update "
                                 f"{self.counters.updates}")  # fmt: skip
        row.update({"eval/return_mean": ev.mean, "eval/return_std": ev.std})
        if outcome.confirm_mean is not None:
            row["eval/confirm_mean"] = outcome.confirm_mean
        self.last_evaluation, self.solved = ev, outcome.solved
        if ev.mean > self.best.mean:
            self.best = Best(ev.mean, {k: v.clone() for k, v in self.policy.state_dict().items()},
                             dict(update=self.counters.updates, env_steps=self.counters.env_steps,
                                  eval_mean=ev.mean))  # fmt: skip

    def state_dict(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """(tensors, JSON-ready data): everything :meth:`load_state_dict` needs to continue the
        run exactly as it would have gone on. Take it between iterations."""
        tensors = {f"policy/{k}": v for k, v in self.policy.state_dict().items()}
        optim = self.optimizer.state_dict()
        for i, s in optim["state"].items():
            tensors[f"optim/{i}/exp_avg"], tensors[f"optim/{i}/exp_avg_sq"] = (
                s["exp_avg"], s["exp_avg_sq"])  # fmt: skip
        if self.best.state is not None:
            tensors.update({f"best/{k}": v for k, v in self.best.state.items()})
        tensors["rng/torch"] = self.generator.get_state()
        last = self.last_evaluation
        data = {
            "optim": {"param_groups": optim["param_groups"],
                      "steps": {str(i): float(s["step"]) for i, s in optim["state"].items()}},
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
            "sampler": self.sampler.state_dict(), "evaluation": self.evaluation.state_dict(),
            "counters": dataclasses.asdict(self.counters),
            "clock": {"train_seconds": self.clock.train_seconds,
                      "rollout_seconds": self.clock.rollout_seconds,
                      "eval_seconds": self.clock.eval_seconds},
            "best": {"mean": self.best.mean, "meta": self.best.meta},
            "history": self.history, "recent": list(self.recent), "lr": self.lr,
            "complete_episodes": self.complete_episodes, "solved": self.solved,
            "last_evaluation": None if last is None else
            {"returns": last.returns.tolist(), "lengths": last.lengths.tolist()},
        }  # fmt: skip
        return tensors, data

    def load_state_dict(self, tensors: dict[str, torch.Tensor], data: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict` (taken from a run of the same config)."""
        self.policy.load_state_dict(_prefixed(tensors, "policy/"))
        steps = data["optim"]["steps"]
        self.optimizer.load_state_dict({
            "param_groups": data["optim"]["param_groups"],
            "state": {int(i): {"step": steps[i], "exp_avg": tensors[f"optim/{i}/exp_avg"],
                               "exp_avg_sq": tensors[f"optim/{i}/exp_avg_sq"]} for i in steps},
        })  # fmt: skip
        best = _prefixed(tensors, "best/")
        self.best = Best(data["best"]["mean"], best or None, data["best"]["meta"])
        self.generator.set_state(tensors["rng/torch"])
        if self.scaler is not None:
            self.scaler.load_state_dict(data["scaler"])
        self.sampler.load_state_dict(data["sampler"])
        self.evaluation.load_state_dict(data["evaluation"])
        self.counters = Counters(**data["counters"])
        clock = data["clock"]
        self.clock = Clock(rollout_seconds=clock["rollout_seconds"],
                           eval_seconds=clock["eval_seconds"], carried=clock["train_seconds"])
        self.history = list(data["history"])
        self.recent = deque((tuple(x) for x in data["recent"]), maxlen=RECENT_EPISODES)
        self.lr, self.solved = data["lr"], data["solved"]
        self.complete_episodes = data["complete_episodes"]
        last = data["last_evaluation"]
        self.last_evaluation = None if last is None else Evaluation(
            np.asarray(last["returns"], np.float64), np.asarray(last["lengths"], np.int64))

    def final_evaluation(self) -> Evaluation:
        """The evaluation of the policy as it ends (a new one if the last predates it)."""
        if self.interrupted or self.failure is not None or self.last_evaluation is None:
            outcome = self.evaluation.run(self.policy, confirm=False)
            self.last_evaluation, self.solved = outcome.evaluation, outcome.solved
        return self.last_evaluation


def check_finite(batch: Batch) -> None:
    """Raise :class:`NonFiniteError` naming the first batch field with a NaN or an infinity."""
    valid = batch.mask.bool()
    for name in ("obs", "rewards", "values", "next_values", "log_probs"):
        x = getattr(batch, name)
        if x is not None and not bool(torch.isfinite(x[valid]).all()):
            raise NonFiniteError(f"the environment's {name} (or the policy's, for values and "
                                 "log-probabilities) hold NaN or infinity")  # fmt: skip


def _prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def new_train_state(
    cfg: TrainConfig, algorithm: Algorithm, policy: MLPPolicy, sampler: Sampler,
    evaluation: EvaluationSchedule,
) -> TrainState:  # fmt: skip
    """A run's state before its first update."""
    return TrainState(
        cfg=cfg, algorithm=algorithm, policy=policy, optimizer=make_optimizer(policy, cfg),
        sampler=sampler, evaluation=evaluation,
        generator=torch.Generator().manual_seed(cfg.run.seed),  # the update's own draws
        scaler=RewardScaler() if cfg.normalize_rewards else None,  # type: ignore[attr-defined]
    )  # fmt: skip
