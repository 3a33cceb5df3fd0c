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

BOX = gym.spaces.Box(np.array([-1.0, -2.0, 0.0], np.float32), np.ones(3, np.float32))
SPACES = {
    "discrete": gym.spaces.Discrete(5),
    "box": BOX,
    "squashed": BOX,
    "multi_discrete": gym.spaces.MultiDiscrete([2, 4, 3], start=[0, 1, -1]),
    "multi_binary": gym.spaces.MultiBinary(4),
}
DIST = {"squashed": "squashed"}


def _policy(kind: str, seed: int = 0):
    info = EnvInfo("test", obs_dim=4, action_space=SPACES[kind])
    spec = PolicySpec(info, (16,), "tanh", init_log_std=-0.3, action_dist=DIST.get(kind, "auto"))
    return build_policy(spec, seed)


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
    elif kind in ("multi_discrete", "multi_binary"):
        _check_frequencies(policy.head, out[0], actions.numpy())
    else:
        std = float(np.exp(-0.3))
        assert ((actions.mean(0) - out[0]).abs().numpy() < 5 * std / np.sqrt(n)).all()
        assert (np.abs(actions.std(0).numpy() - std) < 5 * std / np.sqrt(2 * n)).all()


def _check_frequencies(head, out: torch.Tensor, actions: np.ndarray) -> None:
    """Per-dimension frequencies within 5 standard errors of the head's own probabilities."""
    n = actions.shape[0]
    for dim in range(actions.shape[1]):
        values = np.unique(actions[:, dim])
        for value in range(int(values.max()) + 1):
            probe = torch.from_numpy(actions[:1].copy()).expand(1, -1).clone()
            # P(a_dim = value) = sum over the others: with independent dimensions, the ratio of
            # two joint probabilities differing only in this dimension gives the marginal.
            logps = []
            for v in range(int(values.max()) + 1):
                probe[0, dim] = v
                logps.append(head.log_prob_entropy(out[None], probe)[0])
            marg = torch.softmax(torch.cat(logps), 0)[value].item()
            count = int((actions[:, dim] == value).sum())
            se = np.sqrt(n * marg * (1 - marg)) + 1e-9
            assert abs(count - n * marg) < 5 * se, (dim, value, count, n * marg)


def test_log_probs_match_torch_distributions() -> None:
    """Each head's log-probability and entropy against torch.distributions (the squashed one's
    log-probability against a TransformedDistribution with the tanh and affine transforms)."""
    d = torch.distributions
    gen = torch.Generator().manual_seed(0)
    out = torch.randn(6, 9, generator=gen)
    md = make_head(gym.spaces.MultiDiscrete([2, 4, 3]))
    actions = torch.stack([torch.randint(0, k, (6,), generator=gen) for k in (2, 4, 3)], 1)
    parts = [d.Categorical(logits=x) for x in out.split([2, 4, 3], dim=1)]
    log_prob, entropy = md.log_prob_entropy(out, actions)
    reference = sum(p.log_prob(actions[:, i]) for i, p in enumerate(parts))
    torch.testing.assert_close(log_prob, reference)
    torch.testing.assert_close(entropy, sum(p.entropy() for p in parts))
    mb = make_head(gym.spaces.MultiBinary(9))
    bits = torch.randint(0, 2, (6, 9), generator=gen)
    ref = d.Independent(d.Bernoulli(logits=out), 1)
    log_prob, entropy = mb.log_prob_entropy(out, bits)
    torch.testing.assert_close(log_prob, ref.log_prob(bits.float()))
    torch.testing.assert_close(entropy, ref.entropy())
    sq = make_head(BOX, "squashed", init_log_std=-0.3)
    mean, u = out[:, :3], torch.randn(6, 3, generator=gen)
    low, high = torch.from_numpy(BOX.low).double(), torch.from_numpy(BOX.high).double()
    base = d.Independent(d.Normal(mean.double(), torch.exp(torch.tensor(-0.3)).double()), 1)
    squash = d.TransformedDistribution(base, [d.TanhTransform(), d.AffineTransform(
        (low + high) / 2, (high - low) / 2)])  # fmt: skip
    a = low + (torch.tanh(u.double()) + 1) * (high - low) / 2  # in float64: atanh stays exact
    torch.testing.assert_close(sq.log_prob_entropy(mean, u)[0].double(), squash.log_prob(a),
                               rtol=1e-5, atol=1e-4)  # fmt: skip


def test_squashed_log_prob_is_finite_far_out_and_actions_stay_inside() -> None:
    head = make_head(BOX, "squashed")
    u = torch.tensor([[30.0, -30.0, 0.0], [-50.0, 50.0, 1.0]])
    log_prob, entropy = head.log_prob_entropy(torch.zeros(2, 3), u)
    assert torch.isfinite(log_prob).all() and torch.isfinite(entropy).all()
    a = head.to_env(u.numpy())
    assert (a >= BOX.low).all() and (a <= BOX.high).all()


def test_squashed_entropy_estimate_is_unbiased() -> None:
    """The one-sample entropy estimate averages, over samples of the policy, to -E[log pi(a|s)]
    within 5 standard errors."""
    head = make_head(BOX, "squashed", init_log_std=0.3)
    n = 40_000
    mean = torch.tensor([[0.5, -1.0, 2.0]]).expand(n, 3)
    noise = torch.from_numpy(head.noise(np.random.default_rng(4), (n,)))
    with torch.no_grad():
        u = head.sample(mean, noise)
        log_prob, entropy = head.log_prob_entropy(mean, u)
    se = float(log_prob.std()) / np.sqrt(n)
    assert abs(float(entropy.mean()) + float(log_prob.mean())) < 5 * se + 1e-6


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
        (gym.spaces.Text(5), "action space Text"),
        (gym.spaces.MultiDiscrete([[2, 3], [2, 2]]), "one-dimensional MultiDiscrete"),
        (gym.spaces.MultiBinary([2, 2]), "one-dimensional MultiBinary"),
        (gym.spaces.Discrete(3, start=1), "numbered from 0"),
        (gym.spaces.Box(-1, 1, (2, 2)), "one-dimensional Box"),
    ],
)
def test_unsupported_spaces_are_refused(space: gym.Space, words: str) -> None:
    with pytest.raises(PgradError, match=words):
        make_head(space)


@pytest.mark.parametrize(
    ("space", "dist", "words"),
    [
        (gym.spaces.Discrete(3), "squashed", "needs a Box action space.*use auto or categorical"),
        (gym.spaces.Box(-np.inf, np.inf, (2,)), "squashed", "infinite bounds"),
        (BOX, "beta", "unknown action distribution"),
    ],
)
def test_a_head_that_does_not_serve_the_space_is_refused(space, dist: str, words: str) -> None:
    with pytest.raises(PgradError, match=words):
        make_head(space, dist)
