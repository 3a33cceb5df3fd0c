"""Policy heads: log-probabilities and entropies agree with torch.distributions."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from torch.distributions import Categorical, Normal

from pgrad.envs.make import EnvInfo
from pgrad.policies.mlp import MLPPolicy, PolicySpec, build_policy

DISCRETE = EnvInfo("test", obs_dim=3, action_space=gym.spaces.Discrete(4))
BOX = EnvInfo("test", obs_dim=3, action_space=gym.spaces.Box(
    np.array([-1.0, -2.0], np.float32), np.array([1.0, 2.0], np.float32)))  # fmt: skip


def test_categorical_log_prob_and_entropy() -> None:
    policy = build_policy(PolicySpec(DISCRETE, (8,), "tanh"), seed=0)
    obs = torch.randn(5, 3)
    actions = torch.tensor([0, 1, 2, 3, 1])
    log_prob, entropy = policy.evaluate_actions(obs, actions)
    dist = Categorical(logits=policy(obs))
    torch.testing.assert_close(log_prob, dist.log_prob(actions))
    torch.testing.assert_close(entropy, dist.entropy())


def test_gaussian_log_prob_is_of_the_unclipped_sample() -> None:
    policy = build_policy(PolicySpec(BOX, (8,), "relu", init_log_std=0.5), seed=0)
    obs = torch.randn(6, 3)
    actions = torch.randn(6, 2) * 10  # far outside the bounds
    log_prob, entropy = policy.evaluate_actions(obs, actions)
    dist = Normal(policy(obs), policy.head.log_std.exp())
    torch.testing.assert_close(log_prob, dist.log_prob(actions).sum(-1))
    torch.testing.assert_close(entropy, dist.entropy().sum(-1))


def test_same_seed_same_weights_and_spec_round_trip() -> None:
    spec = PolicySpec(BOX, (8, 8), "tanh")
    a, b = build_policy(spec, 3), build_policy(spec, 3)
    for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y)
    assert PolicySpec.from_json(spec.to_json()) == spec
    assert isinstance(MLPPolicy(PolicySpec.from_json(spec.to_json())), MLPPolicy)
