"""Batched evaluation: one whole episode per copy, all stepped together."""

from __future__ import annotations

import numpy as np

from _envs import COUNTER_ID
from pgrad.envs.make import make_vector_env
from pgrad.policies.mlp import PolicySpec, build_policy
from pgrad.rollout.evaluate import Evaluator


def _policy(env_id: str):
    envs, info = make_vector_env(env_id, 1)
    envs.close()
    return build_policy(PolicySpec(info, (8,), "tanh"), seed=0)


def test_each_copy_counts_exactly_its_first_episode() -> None:
    evaluator = Evaluator(COUNTER_ID, episodes=9, seed=0)
    result = evaluator.run(_policy(COUNTER_ID))
    evaluator.close()
    lengths = result.lengths
    assert result.episodes == 9 and ((lengths >= 1) & (lengths <= 7)).all()
    # reward 10 t + action with action in {0, 1, 2}: the return pins down the length.
    base = 10.0 * lengths * (lengths - 1) / 2
    assert ((result.returns >= base) & (result.returns <= base + 2 * lengths)).all()


def test_cartpole_returns_equal_lengths_and_runs_are_reproducible() -> None:
    policy = _policy("CartPole-v1")
    a = Evaluator("CartPole-v1", episodes=20, seed=5)
    b = Evaluator("CartPole-v1", episodes=20, seed=5)
    ra, rb = a.run(policy), b.run(policy)
    np.testing.assert_array_equal(ra.returns, ra.lengths)
    np.testing.assert_array_equal(ra.returns, rb.returns)
    greedy = a.run(policy, deterministic=True)
    assert greedy.episodes == 20 and (greedy.lengths <= 500).all()
    a.close()
    b.close()
