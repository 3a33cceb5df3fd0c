"""The evaluation budget and the sequential confirmation: what evaluation may cost by default, and
the benchmark protocol still selectable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import pgrad
from pgrad.config import EnvConfig, EvalConfig
from pgrad.errors import PgradError
from pgrad.policies.mlp import PolicySpec, build_policy
from pgrad.trainer.evaluation import EvaluationSchedule, calls, decided
from pgrad.trainer.logging import read_metrics


def test_a_sequential_confirmation_stops_once_the_bound_decides() -> None:
    assert decided(np.full(10, 500.0), 475.0)  # no spread: decided at once
    assert decided(np.full(10, 100.0), 475.0)
    rng = np.random.default_rng(0)
    near = rng.normal(478.0, 60.0, 100)  # 2.326 standard errors (14) straddle the target
    assert not decided(near, 475.0)
    assert decided(rng.normal(478.0, 60.0, 40_000), 475.0)  # enough episodes narrow it
    assert not decided(np.array([500.0]), 475.0)  # one episode has no spread to judge


def _schedule(budget: float, env: str = "CartPole-v1", **kw) -> EvaluationSchedule:
    cfg = EvalConfig(eval_episodes=10, eval_interval=1, eval_budget=budget, **kw)
    return EvaluationSchedule(EnvConfig(id=env, num_envs=4), cfg, seed=0, target=5.0)


def test_the_budget_holds_evaluations_back_but_never_the_last() -> None:
    schedule = _schedule(0.2)  # CartPole's native vector env: a call steps all 4 copies
    assert schedule.due(1, 0.0, False, train_steps=400)
    schedule.calls = 21
    assert not schedule.due(2, 0.0, False, train_steps=400)  # 21 > 0.2 * 400 / 4
    assert not schedule.due(2, 9.0, False, train_steps=400)  # reaching the target waits too
    assert schedule.due(3, 0.0, False, train_steps=420)  # 21 <= 0.2 * 420 / 4
    assert schedule.due(4, 0.0, True, train_steps=0)  # the budget is spent: the last one runs
    schedule.last_calls = 5  # the next one is reckoned to cost what the last one did
    assert not schedule.due(5, 0.0, False, train_steps=420)  # 21 + 5 > 0.2 * 420 / 4
    assert schedule.due(5, 0.0, False, train_steps=520)  # 21 + 5 <= 0.2 * 520 / 4
    unlimited = _schedule(0.0)
    unlimited.calls = 10**9
    assert unlimited.due(2, 0.0, False, train_steps=1)
    copy_by_copy = _schedule(0.2, env="Pendulum-v1")  # MuJoCo-like: each copy's step counts
    copy_by_copy.calls = 21
    assert not copy_by_copy.due(2, 0.0, False, train_steps=100)
    assert copy_by_copy.due(2, 0.0, False, train_steps=105)
    for s in (schedule, unlimited, copy_by_copy):
        s.close()


def test_an_evaluation_costs_its_vector_steps_or_its_copies_steps() -> None:
    lengths = np.array([3, 10, 7])
    assert calls(lengths, native=True) == 10 and calls(lengths, native=False) == 20


@pytest.mark.parametrize(("rule", "episodes"), [("sequential", 10), ("all", 200)])
def test_a_clear_pass_is_confirmed_in_one_round_unless_all_are_asked(rule: str,
                                                                     episodes: int) -> None:
    """Any CartPole policy lasts more than 5 steps: the first round of 10 fresh episodes (as many
    as an evaluation's) decides a sequential confirmation, where the protocol's rule runs all
    200."""
    schedule = _schedule(0.0, confirm_episodes=200, confirm_rule=rule)
    policy = build_policy(PolicySpec(schedule.evaluator.info, (8,), "tanh"), seed=0)
    outcome = schedule.run(policy)
    assert outcome.solved and outcome.confirm_mean is not None and outcome.confirm_mean > 5.0
    evaluation_steps = int(outcome.evaluation.lengths.sum())
    confirm_steps = schedule.steps - evaluation_steps
    per_episode = confirm_steps / episodes
    assert 5.0 < per_episode < 200.0  # that many episodes were simulated, no more, no less
    state = schedule.state_dict()
    assert state["steps"] == schedule.steps
    schedule.close()


def test_the_budget_cuts_a_confirmation_short_and_its_rounds_so_far_decide() -> None:
    """A borderline policy needs many rounds; with the budget for one round only, the second is
    not run and the first round's mean decides."""
    env = EnvConfig(id="CartPole-v1", num_envs=4)
    cfg = EvalConfig(eval_episodes=10, eval_interval=1, eval_budget=0.2, confirm_episodes=1000)

    def schedule(target: float) -> EvaluationSchedule:
        return EvaluationSchedule(env, cfg, seed=0, target=target)

    probe = schedule(0.0)  # every episode beats 0: the first round decides
    policy = build_policy(PolicySpec(probe.evaluator.info, (8,), "tanh"), seed=0)
    first_round = probe.run(policy).confirm_mean
    assert first_round is not None
    target = first_round - 1.0  # the first round passes, but within its error: undecided
    unlimited, budgeted = schedule(target), schedule(target)
    unlimited.run(policy)
    outcome = budgeted.run(policy, train_steps=1)  # the budget affords no second round
    assert outcome.evaluation.mean >= target and outcome.confirm_mean == first_round
    assert outcome.solved  # the first round's mean is above the target
    assert unlimited.steps > budgeted.steps  # unlimited, it ran more rounds
    for s in (probe, unlimited, budgeted):
        s.close()


def test_default_runs_keep_evaluation_within_the_budget(tmp_path: Path) -> None:
    pgrad.train(algo="ppo", env="Pendulum-v1", total_env_steps=30_720, num_envs=4,
                num_steps=256, eval_interval=1, eval_episodes=10, target_return="none",
                progress=False, tensorboard=False, run_dir=tmp_path / "run")  # fmt: skip
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    rows = read_metrics(tmp_path / "run" / "metrics.csv")
    evaluated = [r for r in rows if "eval/return_mean" in r]
    assert 1 < len(evaluated) < len(rows)  # some evaluations were held back, not all
    one = 10 * 200  # an evaluation: 10 episodes of Pendulum's 200 steps
    assert summary["eval_steps"] <= 0.2 * summary["env_steps"] + 2 * one


def test_a_negative_budget_is_one_line() -> None:
    with pytest.raises(PgradError, match="eval_budget must be a number >= 0"):
        EvalConfig(eval_budget=-1.0)
