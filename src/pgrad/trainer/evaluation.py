"""Evaluation during training: when it is due, what it may cost, and the confirmation rule.

A run is *solved* when an evaluation's mean return reaches the target and, with
``confirm_episodes``, a confirmation on fresh episodes does too (a lucky draw of a few episodes
does not stop training). Evaluations own their environments and random streams
(:class:`pgrad.rollout.evaluate.Evaluator`), so a run's training is the same whatever the
evaluation schedule.

What evaluation costs, by default (``docs/performance.md`` has the measurements):

- **A budget.** An evaluation falls due after an update whose batch reached the target, every
  ``eval_interval`` updates, and when the step budget is spent. Except for that last one, it runs
  only if the evaluations so far (confirmations included) and this one, reckoned to cost what the
  last one did, stay within ``eval_budget`` times what training's environment steps have cost: a
  1000-step MuJoCo task evaluated with 100
  episodes every 10k training steps would otherwise simulate ten times more evaluation than
  training. The cost is counted in environment calls, not seconds, so the schedule, and with it
  the update a run stops at, is the same on every machine and after a resume: a natively
  vectorized environment (CartPole's) advances all its copies in one call, so it counts vector
  steps; environments stepped copy by copy (MuJoCo's, through
  :class:`pgrad.envs.serial.SerialVectorEnv`) count each copy's steps.
- **A sequential confirmation** (``confirm_rule="sequential"``): rounds of ``eval_episodes``
  fresh episodes, stopping at the first round after which a one-sided 99% confidence bound on the
  mean return (normal, from the rounds so far) lies wholly above the target (pass) or below it
  (fail); after ``confirm_episodes`` the mean decides. A policy clearly above the target is
  confirmed in one or two rounds instead of 1000 episodes. The rounds after the first stay
  within the budget: where the budget stops a borderline policy's confirmation, the mean of the
  rounds so far decides (at least ``eval_episodes`` fresh episodes beyond the evaluation's).

The CartPole benchmark protocol (evaluate after every update, confirm on all 1000 episodes, no
budget) is ``eval_interval=1, confirm_rule="all", eval_budget=0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv

from pgrad.config import EnvConfig, EvalConfig
from pgrad.envs.serial import SerialVectorEnv
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


Z_99 = 2.326
"""The one-sided 99% quantile of the standard normal: a sequential confirmation's bound."""


class EvaluationSchedule:
    """Evaluates after an update whose batch reached the target, every ``eval_interval`` updates,
    and once the budget is spent, within the evaluation budget; confirms each pass."""

    def __init__(self, env: EnvConfig, cfg: EvalConfig, seed: int, target: float | None) -> None:
        self.env, self.cfg, self.seed, self.target = env, cfg, seed, target
        self.evaluator = Evaluator(env, cfg.eval_episodes, seed + EVAL_SEED_OFFSET)
        self._confirmer: Evaluator | None = None  # built when first needed: it may hold 1000 copies
        self.steps = 0
        """Environment steps the evaluations (confirmations included) have simulated."""
        self.calls = 0
        """What they cost, in environment calls (see :func:`calls`)."""
        self.last_calls = 0
        """What the last evaluation (its confirmation apart) cost: the next one's forecast."""
        self._native = not isinstance(self.evaluator.envs, STEPPED_COPY_BY_COPY)

    def due(self, updates: int, batch_mean: float, budget_spent: bool, train_steps: int = 0
            ) -> bool:  # fmt: skip
        """Whether to evaluate after update number ``updates``, ``train_steps`` into the run."""
        if budget_spent:
            return True
        reached = self.target is not None and batch_mean >= self.target
        periodic = self.cfg.eval_interval > 0 and updates % self.cfg.eval_interval == 0
        return (reached or periodic) and self.affordable(self.last_calls, train_steps)

    def affordable(self, cost: int, train_steps: int | None) -> bool:
        """Whether ``cost`` more calls keep evaluation within its budget ``train_steps`` into the
        run (always, with no budget or no ``train_steps``)."""
        budget = self.cfg.eval_budget
        if budget <= 0 or train_steps is None:
            return True
        train_calls = train_steps / self.env.num_envs if self._native else train_steps
        return self.calls + cost <= budget * train_calls

    def _count(self, evaluation: Evaluation) -> int:
        """Add ``evaluation``'s steps and calls to the totals; return its calls."""
        cost = calls(evaluation.lengths, self._native)
        self.steps += int(evaluation.lengths.sum())
        self.calls += cost
        return cost

    def run(self, policy: MLPPolicy, confirm: bool = True, train_steps: int | None = None
            ) -> Outcome:  # fmt: skip
        """Evaluate ``policy``; confirm a pass on fresh episodes, within the budget when
        ``train_steps`` (training's steps so far) is given."""
        evaluation = self.evaluator.run(policy)
        self.last_calls = self._count(evaluation)
        solved = self.target is not None and evaluation.mean >= self.target
        confirm_mean = None
        if solved and confirm and self.cfg.confirm_episodes > 0:
            confirm_mean, solved = self._confirm(policy, train_steps)
        return Outcome(evaluation, confirm_mean, solved)

    def _confirmer_episodes(self) -> int:
        """Episodes per confirmation round: all of them, or as many as an evaluation's."""
        cfg = self.cfg
        if cfg.confirm_rule == "all":
            return cfg.confirm_episodes
        return min(cfg.eval_episodes, cfg.confirm_episodes)

    def _confirm(self, policy: MLPPolicy, train_steps: int | None) -> tuple[float, bool]:
        """The confirmation's mean return and verdict: of all ``confirm_episodes``, or of the
        rounds a sequential confirmation needed. A round after the first runs only within the
        budget; when the budget stops an undecided confirmation, the mean of its rounds so far
        decides (at least ``eval_episodes`` fresh episodes)."""
        assert self.target is not None
        if self._confirmer is None:
            self._confirmer = Evaluator(self.env, self._confirmer_episodes(),
                                        self.seed + 2 * EVAL_SEED_OFFSET)  # fmt: skip
        rounds = max(self.cfg.confirm_episodes // self._confirmer.envs.num_envs, 1)
        returns: list[np.ndarray] = []
        cost = 0
        for done in range(rounds):
            if done and not self.affordable(cost, train_steps):
                break
            result = self._confirmer.run(policy)
            cost = self._count(result)
            returns.append(result.returns)
            if decided(np.concatenate(returns), self.target):
                break
        mean = float(np.concatenate(returns).mean())
        return mean, mean >= self.target

    def state_dict(self) -> dict[str, Any]:
        """The evaluators' random streams and environments (the confirmer's once it exists) and
        the steps evaluation has used."""
        confirmer = None if self._confirmer is None else self._confirmer.state_dict()
        return {"evaluator": self.evaluator.state_dict(), "confirmer": confirmer,
                "steps": self.steps, "calls": self.calls,
                "last_calls": self.last_calls}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`, building the confirmer if the saved run had one."""
        self.evaluator.load_state_dict(state["evaluator"])
        self.steps = int(state.get("steps", 0))
        self.calls = int(state.get("calls", 0))
        self.last_calls = int(state.get("last_calls", 0))
        if state["confirmer"] is not None:
            self._confirmer = self._confirmer or Evaluator(
                self.env, self._confirmer_episodes(), self.seed + 2 * EVAL_SEED_OFFSET
            )
            self._confirmer.load_state_dict(state["confirmer"])

    def close(self) -> None:
        """Release the environments."""
        self.evaluator.close()
        if self._confirmer is not None:
            self._confirmer.close()


STEPPED_COPY_BY_COPY = (SerialVectorEnv, SyncVectorEnv, AsyncVectorEnv)
"""Vector environments whose copies are simulated one by one (the others, such as CartPole's
native one, advance every copy in one array operation)."""


def calls(lengths: np.ndarray, native: bool) -> int:
    """The cost of one evaluation of episodes of ``lengths``, in environment calls: its vector
    steps (the longest episode) where one call advances every copy, else its copies' steps."""
    if lengths.size == 0:
        return 0
    return int(lengths.max()) if native else int(lengths.sum())


def decided(returns: np.ndarray, target: float) -> bool:
    """Whether a sequential confirmation can stop: the mean return's one-sided 99% bound
    (mean -/+ Z_99 standard errors) lies wholly above or wholly below ``target``. Needs at least
    two episodes; identical returns give a zero standard error (CartPole's 500s decide at once)."""
    if returns.size < 2:
        return False
    mean = float(returns.mean())
    error = Z_99 * float(returns.std(ddof=1)) / returns.size**0.5
    return mean - error >= target or mean + error < target
