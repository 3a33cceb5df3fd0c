"""Exact J and grad J: dynamic programming, enumeration, finite differences and autograd agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pgrad.exact import (
    ENUMERATION_LIMIT,
    NAMED_MDPS,
    FiniteMDP,
    enumerate_trajectories,
    expected_return,
    policy_gradient,
    values,
)


def random_mdp(rng: np.random.Generator) -> FiniteMDP:
    s, a, t = rng.integers(1, 5), rng.integers(1, 4), int(rng.integers(1, 5))
    transitions = rng.random((s, a, s)) * (rng.random((s, a, s)) < 0.6)  # some zero probabilities
    transitions[..., 0] += 1e-3 * (transitions.sum(axis=2) == 0)
    transitions /= transitions.sum(axis=2, keepdims=True)
    initial = rng.random(s)
    return FiniteMDP(initial / initial.sum(), transitions, rng.normal(size=(s, a)), t,
                     float(rng.uniform(0.5, 1.0)))  # fmt: skip


def finite_differences(mdp: FiniteMDP, logits: np.ndarray, h: float = 1e-5) -> np.ndarray:
    grad = np.zeros_like(logits)
    for index in np.ndindex(*logits.shape):
        step = np.zeros_like(logits)
        step[index] = h
        grad[index] = (
            expected_return(mdp, logits + step) - expected_return(mdp, logits - step)
        ) / (2 * h)
    return grad


def autograd_dp(mdp: FiniteMDP, logits: np.ndarray) -> np.ndarray:
    """Reference: autograd through an independent torch backward recursion for J."""
    theta = torch.tensor(logits, requires_grad=True)
    pi = torch.softmax(theta, dim=1)
    p = torch.tensor(mdp.transitions)
    r = torch.tensor(mdp.rewards)
    v = torch.zeros(mdp.num_states, dtype=torch.float64)
    for _ in range(mdp.horizon):
        q = r + mdp.discount * torch.einsum("sap,p->sa", p, v)
        v = (pi * q).sum(dim=1)
    (grad,) = torch.autograd.grad(torch.tensor(mdp.initial) @ v, theta)
    return grad.numpy()


@pytest.mark.parametrize("seed", range(40))
def test_dp_enumeration_finite_differences_and_autograd_agree(seed: int) -> None:
    rng = np.random.default_rng(seed)
    mdp = random_mdp(rng)
    logits = rng.normal(size=(mdp.num_states, mdp.num_actions)) * 2
    dp = policy_gradient(mdp, logits, method="dp")
    np.testing.assert_allclose(policy_gradient(mdp, logits, method="enumerate"), dp, atol=1e-8)
    np.testing.assert_allclose(finite_differences(mdp, logits), dp, atol=1e-8)
    np.testing.assert_allclose(autograd_dp(mdp, logits), dp, atol=1e-10)


@pytest.mark.parametrize("name", sorted(NAMED_MDPS))
def test_enumeration_is_a_distribution_whose_mean_return_is_j(name: str) -> None:
    mdp = NAMED_MDPS[name]()
    logits = np.random.default_rng(0).normal(size=(mdp.num_states, mdp.num_actions))
    trajectories = enumerate_trajectories(mdp, logits)
    assert abs(trajectories.probabilities.sum() - 1.0) < 1e-12
    assert (trajectories.probabilities > 0).all()
    assert (
        abs(trajectories.probabilities @ trajectories.returns - expected_return(mdp, logits))
        < 1e-12
    )
    assert (trajectories.counts.sum(axis=(1, 2)) == mdp.horizon).all()
    np.testing.assert_allclose(policy_gradient(mdp, logits), trajectories.gradient(), atol=1e-12)


def test_values_match_expected_return_and_torch_logits_are_accepted() -> None:
    mdp = NAMED_MDPS["gridworld"]()
    logits = torch.randn(mdp.num_states, mdp.num_actions, dtype=torch.float64)
    v = values(mdp, logits)
    assert v.v.shape == (mdp.horizon + 1, mdp.num_states) and (v.v[-1] == 0).all()
    assert abs(mdp.initial @ v.v[0] - expected_return(mdp, logits)) < 1e-12


def test_a_known_case_by_hand() -> None:
    # One state, two actions paying 1 and 0, horizon 2, gamma 0.5: J = p (1 + 0.5) with p = pi(a=0).
    mdp = FiniteMDP(np.ones(1), np.ones((1, 2, 1)), np.array([[1.0, 0.0]]), horizon=2, discount=0.5)
    logits = np.array([[0.3, -0.2]])
    p = 1 / (1 + np.exp(-0.5))
    assert abs(expected_return(mdp, logits) - 1.5 * p) < 1e-12
    dp_dz = p * (1 - p)  # d p / d logits[0, 0] = -d p / d logits[0, 1]
    np.testing.assert_allclose(
        policy_gradient(mdp, logits), [[1.5 * dp_dz, -1.5 * dp_dz]], atol=1e-12
    )


def test_enumeration_refuses_beyond_its_limit_before_working() -> None:
    rng = np.random.default_rng(0)
    s, a = 6, 3
    transitions = np.full((s, a, s), 1.0 / s)
    mdp = FiniteMDP(np.full(s, 1.0 / s), transitions, rng.normal(size=(s, a)), horizon=12)
    with pytest.raises(ValueError, match=f"more than {ENUMERATION_LIMIT:,} trajectories"):
        policy_gradient(mdp, np.zeros((s, a)), method="enumerate")
    with pytest.raises(ValueError, match="method"):
        policy_gradient(mdp, np.zeros((s, a)), method="sum")  # type: ignore[arg-type]


GOOD = dict(initial=np.array([0.5, 0.5]), transitions=np.full((2, 3, 2), 0.5),
            rewards=np.zeros((2, 3)), horizon=3, discount=0.9)  # fmt: skip


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"initial": np.array([0.7, 0.7])}, "initial: probabilities sum to 1.4"),
        ({"initial": np.array([1.5, -0.5])}, "initial: negative probability"),
        ({"initial": np.array([1.0])}, "initial: shape (1,) does not match"),
        ({"transitions": np.full((2, 3, 2), 0.4)}, "transitions: probabilities sum to 0.8"),
        ({"transitions": np.full((2, 2, 2), 0.5)}, "transitions: shape (2, 2, 2)"),
        ({"rewards": np.array([[0.0, np.nan, 0.0], [0, 0, 0]])}, "rewards: contains non-finite"),
        ({"rewards": np.zeros(3)}, "rewards: expected 2 dimensions"),
        ({"horizon": 0}, "horizon: must be >= 1"),
        ({"horizon": 2.5}, "horizon: must be an integer"),
        ({"discount": 0.0}, "discount: must be in (0, 1]"),
        ({"discount": 1.1}, "discount: must be in (0, 1]"),
        ({"initial": np.array([np.inf, 0.0])}, "initial: contains non-finite"),
    ],
)
def test_bad_mdps_are_refused_naming_the_argument(change: dict, words: str) -> None:
    with pytest.raises(ValueError) as info:
        FiniteMDP(**{**GOOD, **change})
    assert words in str(info.value)


def test_tolerance_of_probability_sums() -> None:
    FiniteMDP(**{**GOOD, "initial": np.array([0.5, 0.5 + 5e-7])})  # within 1e-6: accepted
    with pytest.raises(ValueError, match="initial"):
        FiniteMDP(**{**GOOD, "initial": np.array([0.5, 0.5 + 5e-6])})


@pytest.mark.parametrize(
    ("logits", "words"),
    [(np.zeros((2, 2)), "logits: shape (2, 2)"), (np.full((2, 3), np.nan), "logits: contains")],
)
def test_bad_logits_are_refused(logits: np.ndarray, words: str) -> None:
    mdp = FiniteMDP(**GOOD)
    with pytest.raises(ValueError) as info:
        expected_return(mdp, logits)
    assert words in str(info.value)
