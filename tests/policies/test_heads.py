"""Action heads: the NumPy and PyTorch forms agree on the same noise; unsupported spaces refused."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from pgrad.envs.make import EnvInfo
from pgrad.errors import PgradError
from pgrad.policies.actor import NumpyActor, TorchActor, make_actor
from pgrad.policies.heads import CategoricalHead, GaussianHead, make_head
from pgrad.policies.mlp import PolicySpec, build_policy

SPACES = {
    "discrete": gym.spaces.Discrete(5),
    "box": gym.spaces.Box(np.array([-1.0, -2.0, 0.0], np.float32), np.ones(3, np.float32)),
}


def _policy(kind: str, seed: int = 0):
    info = EnvInfo("test", obs_dim=4, action_space=SPACES[kind])
    return build_policy(PolicySpec(info, (16,), "tanh", init_log_std=-0.3), seed)


@pytest.mark.parametrize("kind", sorted(SPACES))
def test_numpy_and_torch_forms_give_the_same_actions_from_the_same_noise(kind: str) -> None:
    policy = _policy(kind)
    fast, slow = NumpyActor(policy), TorchActor(policy)
    obs = np.random.default_rng(1).normal(size=(64, 4)).astype(np.float32)
    noise = fast.noise(np.random.default_rng(2), (3, 64))
    for step in range(3):
        a, b = fast.sample_with(obs, noise[step]), slow.sample_with(obs, noise[step])
        assert a.dtype == b.dtype == policy.head.action_dtype
        assert a.shape == b.shape == (64, *policy.head.action_shape)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fast.mode(obs), slow.mode(obs), rtol=1e-5, atol=1e-5)
    sent = fast.env_action(fast.mode(obs) * 100)
    np.testing.assert_allclose(sent, slow.env_action(slow.mode(obs) * 100), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(SPACES))
def test_torch_sampling_has_the_distribution_of_the_log_prob(kind: str) -> None:
    """Frequencies (categorical) or moments (Gaussian) of torch samples within 5 standard errors
    of the distribution whose log-probability the loss uses."""
    policy, n = _policy(kind), 40_000
    obs = torch.zeros(1, 4).expand(n, 4)
    noise = torch.from_numpy(policy.head.noise(np.random.default_rng(3), (n,)))
    with torch.no_grad():
        out = policy(obs)
        actions = policy.head.sample(out, noise)
    if kind == "discrete":
        probs = torch.softmax(out[0], -1).numpy()
        counts = np.bincount(actions.numpy(), minlength=5)
        se = np.sqrt(n * probs * (1 - probs))
        assert (np.abs(counts - n * probs) < 5 * se).all()
    else:
        std = float(np.exp(-0.3))
        assert ((actions.mean(0) - out[0]).abs().numpy() < 5 * std / np.sqrt(n)).all()
        assert (np.abs(actions.std(0).numpy() - std) < 5 * std / np.sqrt(2 * n)).all()


def test_make_actor_chooses_numpy_where_the_head_has_a_numpy_form() -> None:
    policy = _policy("discrete")
    assert isinstance(make_actor(policy), NumpyActor)
    assert isinstance(make_actor(policy, backend="torch"), TorchActor)
    policy.head.numpy_form = False  # a head without a NumPy form acts through torch
    assert isinstance(make_actor(policy), TorchActor)


def test_heads_by_space() -> None:
    assert isinstance(make_head(gym.spaces.Discrete(3)), CategoricalHead)
    head = make_head(SPACES["box"], init_log_std=0.5)
    assert isinstance(head, GaussianHead) and head.action_shape == (3,)
    assert torch.equal(head.log_std.detach(), torch.full((3,), 0.5))


@pytest.mark.parametrize(
    ("space", "words"),
    [
        (gym.spaces.MultiDiscrete([2, 3]), "action space MultiDiscrete"),
        (gym.spaces.Discrete(3, start=1), "numbered from 0"),
        (gym.spaces.Box(-1, 1, (2, 2)), "one-dimensional Box"),
    ],
)
def test_unsupported_spaces_are_refused(space: gym.Space, words: str) -> None:
    with pytest.raises(PgradError, match=words):
        make_head(space)
