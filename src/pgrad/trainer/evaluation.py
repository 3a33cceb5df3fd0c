"""Evaluation during training: when it is due, and the confirmation rule of a pass.

A run is *solved* when an evaluation's mean return reaches the target and, with
``confirm_episodes``, a second evaluation on that many fresh episodes does too (a lucky draw of a
few episodes does not stop training). Evaluations own their environments and random streams
(:class:`pgrad.rollout.evaluate.Evaluator`), so a run's training is the same whatever the
evaluation schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pgrad.config import EnvConfig, EvalConfig
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.evaluate import Evaluation, Evaluator

EVAL_SEED_OFFSET = 1_000_003
"""Evaluation environments and sampling use seed + this, apart from training's streams."""


@dataclass(frozen=True)
class Outcome:
    """One evaluation: its result, the confirmation's mean (if one ran) and the verdict."""

    evaluation: Evaluation
    confirm_mean: float | None
    solved: bool


class EvaluationSchedule:
    """Evaluates after an update whose batch reached the target, every ``eval_interval`` updates,
    and once the budget is spent; confirms each pass on fresh episodes."""

    def __init__(self, env: EnvConfig, cfg: EvalConfig, seed: int, target: float | None) -> None:
        self.env, self.cfg, self.seed, self.target = env, cfg, seed, target
        self.evaluator = Evaluator(env, cfg.eval_episodes, seed + EVAL_SEED_OFFSET)
        self._confirmer: Evaluator | None = None  # built when first needed: it may hold 1000 copies

    def due(self, updates: int, batch_mean: float, budget_spent: bool) -> bool:
        """Whether to evaluate after update number ``updates``."""
        reached = self.target is not None and batch_mean >= self.target
        periodic = self.cfg.eval_interval > 0 and updates % self.cfg.eval_interval == 0
        return reached or periodic or budget_spent

    def run(self, policy: MLPPolicy, confirm: bool = True) -> Outcome:
        """Evaluate ``policy``; confirm a pass on ``confirm_episodes`` fresh episodes."""
        evaluation = self.evaluator.run(policy)
        solved = self.target is not None and evaluation.mean >= self.target
        confirm_mean = None
        if solved and confirm and self.cfg.confirm_episodes > 0:
            if self._confirmer is None:
                self._confirmer = Evaluator(self.env, self.cfg.confirm_episodes,
                                            self.seed + 2 * EVAL_SEED_OFFSET)  # fmt: skip
            confirm_mean = self._confirmer.run(policy).mean
            solved = confirm_mean >= self.target  # type: ignore[operator]
        return Outcome(evaluation, confirm_mean, solved)

    def state_dict(self) -> dict[str, Any]:
        """The evaluators' random streams and environments (the confirmer's once it exists)."""
        confirmer = None if self._confirmer is None else self._confirmer.state_dict()
        return {"evaluator": self.evaluator.state_dict(), "confirmer": confirmer}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`, building the confirmer if the saved run had one."""
        self.evaluator.load_state_dict(state["evaluator"])
        if state["confirmer"] is not None:
            self._confirmer = self._confirmer or Evaluator(
                self.env, self.cfg.confirm_episodes, self.seed + 2 * EVAL_SEED_OFFSET
            )
            self._confirmer.load_state_dict(state["confirmer"])

    def close(self) -> None:
        """Release the environments."""
        self.evaluator.close()
        if self._confirmer is not None:
            self._confirmer.close()
