"""The NumPy actor: the PyTorch policy's outputs, its distribution, and live parameters."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from pgrad.envs.make import EnvInfo
from pgrad.policies.actor import NumpyActor as Actor
from pgrad.policies.mlp import PolicySpec, build_policy

DISCRETE = EnvInfo("test", obs_dim=3, action_space=gym.spaces.Discrete(4))
BOX = EnvInfo("test", obs_dim=3, action_space=gym.spaces.Box(
    np.array([-1.0, -2.0], np.float32), np.array([1.0, 2.0], np.float32)))  # fmt: skip


@pytest.mark.parametrize("info", [DISCRETE, BOX], ids=["discrete", "box"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("hidden", [(), (8,), (16, 8)], ids=["linear", "one", "two"])
def test_forward_matches_pytorch(info: EnvInfo, activation: str, hidden: tuple[int, ...]) -> None:
    policy = build_policy(PolicySpec(info, hidden, activation, normalize_observations=True), 0)
    policy.update_observation_stats(torch.randn(50, 3) * 4 + 2)
    obs = np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32) * 5
    with torch.no_grad():
        expected = policy(torch.from_numpy(obs)).numpy()
    np.testing.assert_allclose(Actor(policy)(obs), expected, rtol=1e-5, atol=1e-6)


def test_follows_optimizer_steps_without_copying() -> None:
    policy = build_policy(PolicySpec(DISCRETE, (8,), "tanh"), 0)
    actor = Actor(policy)
    obs = np.ones((2, 3), np.float32)
    before = actor(obs).copy()
    optimizer = torch.optim.Adam(policy.parameters(), lr=0.1)
    policy(torch.from_numpy(obs)).sum().backward()
    optimizer.step()
    with torch.no_grad():
        expected = policy(torch.from_numpy(obs)).numpy()
    assert not np.allclose(before, expected)
    np.testing.assert_allclose(actor(obs), expected, rtol=1e-5, atol=1e-6)


def test_categorical_sampling_follows_the_policy() -> None:
    policy = build_policy(PolicySpec(DISCRETE, (), "tanh"), seed=0)
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    with torch.no_grad():
        policy.net[0].weight.zero_()
        policy.net[0].bias.copy_(torch.log(torch.from_numpy(probs)))
    n = 40_000
    actions = Actor(policy).sample(np.zeros((n, 3), np.float32), np.random.default_rng(1))
    assert actions.dtype == np.int64 and actions.shape == (n,)
    counts = np.bincount(actions, minlength=4)
    expected = probs * n
    standard_error = np.sqrt(expected * (1 - probs))
    assert (np.abs(counts - expected) < 5 * standard_error).all()


def test_categorical_sampling_is_exact_at_the_extremes() -> None:
    policy = build_policy(PolicySpec(DISCRETE, (), "tanh"), seed=0)
    with torch.no_grad():
        policy.net[0].weight.zero_()
        policy.net[0].bias.copy_(torch.tensor([-1e4, -1e4, 0.0, -1e4]))
    actions = Actor(policy).sample(np.zeros((1000, 3), np.float32), np.random.default_rng(2))
    assert (actions == 2).all()


def test_gaussian_sampling_mean_std_and_clipping() -> None:
    policy = build_policy(PolicySpec(BOX, (8,), "tanh", init_log_std=0.5), seed=0)
    actor = Actor(policy)
    n = 40_000
    obs = np.zeros((n, 3), np.float32)
    actions = actor.sample(obs, np.random.default_rng(3))
    mean = actor(obs[:1])[0]
    std = np.exp(0.5)
    standard_error = std / np.sqrt(n)
    assert (np.abs(actions.mean(0) - mean) < 5 * standard_error).all()
    # The sample standard deviation's standard error is about std / sqrt(2 n).
    assert (np.abs(actions.std(0) - std) < 5 * std / np.sqrt(2 * n)).all()
    sent = actor.env_action(actions * 10)
    assert (np.abs(sent[:, 0]) <= 1).all() and (np.abs(sent[:, 1]) <= 2).all()
    assert np.abs(sent).max(0).tolist() == [1.0, 2.0]


def test_mode_is_argmax_or_mean() -> None:
    policy = build_policy(PolicySpec(DISCRETE, (8,), "tanh"), seed=4)
    actor = Actor(policy)
    obs = np.random.default_rng(4).normal(size=(20, 3)).astype(np.float32)
    np.testing.assert_array_equal(actor.mode(obs), actor(obs).argmax(1))
