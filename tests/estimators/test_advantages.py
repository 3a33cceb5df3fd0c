"""GAE and returns-to-go: hand-computed values, identities, a closed form, and a reference loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _reference import gae_reference, returns_to_go_reference
from pgrad.estimators.advantages import batch_mean_baseline, gae, standardize, td_residuals
from pgrad.estimators.returns import returns_to_go, reward_to_go

F = torch.float64


def t(x, dtype=F):
    return torch.tensor(x, dtype=dtype)


def test_gae_by_hand_with_truncation_and_termination() -> None:
    # One row of 4 steps: an episode truncated after step 1 (bootstraps from V(final) = 10),
    # then one terminated after step 3 (no bootstrap).
    gamma, lam = 0.5, 0.5
    rewards = t([[1.0, 2.0, 3.0, 4.0]])
    values = t([[1.0, 1.0, 2.0, 2.0]])
    next_values = t([[1.0, 10.0, 2.0, 99.0]])
    terminated = t([[False, False, False, True]], torch.bool)
    truncated = t([[False, True, False, False]], torch.bool)
    mask = torch.ones(1, 4, dtype=F)
    # deltas: 1 + .5*1 - 1 = .5; 2 + .5*10 - 1 = 6; 3 + .5*2 - 2 = 2; 4 - 2 = 2
    # A3 = 2; A2 = 2 + .25*2 = 2.5; A1 = 6 (cut); A0 = .5 + .25*6 = 2
    out = gae(
        rewards, values, next_values, terminated, truncated, mask, gamma=gamma, gae_lambda=lam
    )
    torch.testing.assert_close(out, t([[2.0, 6.0, 2.5, 2.0]]))


def test_constant_reward_with_time_limit_has_zero_advantage() -> None:
    # Reward 1 forever, cut by a time limit: the true value is 1 / (1 - gamma) everywhere, so
    # every advantage is 0 for any lambda. Treating the cut as a termination would give the
    # last step 1 - 1 / (1 - gamma) instead.
    gamma, horizon = 0.9, 6
    v = 1.0 / (1.0 - gamma)
    ones = torch.ones(2, horizon, dtype=F)
    truncated = torch.zeros(2, horizon, dtype=torch.bool)
    truncated[:, -1] = True
    for lam in (0.0, 0.5, 1.0):
        out = gae(
            ones,
            ones * v,
            ones * v,
            torch.zeros_like(truncated),
            truncated,
            ones,
            gamma=gamma,
            gae_lambda=lam,
        )
        torch.testing.assert_close(out, torch.zeros(2, horizon, dtype=F))
    wrong = gae(ones, ones * v, ones * v, truncated, torch.zeros_like(truncated), ones,
                gamma=gamma, gae_lambda=1.0)  # fmt: skip
    assert wrong[0, -1].item() == pytest.approx(1 - v)


def test_identities() -> None:
    gen = torch.Generator().manual_seed(0)
    rewards = torch.randn(3, 7, generator=gen, dtype=F)
    values = torch.randn(3, 7, generator=gen, dtype=F)
    next_values = torch.cat([values[:, 1:], torch.zeros(3, 1, dtype=F)], dim=1)
    terminated = torch.zeros(3, 7, dtype=torch.bool)
    terminated[:, -1] = True
    no = torch.zeros_like(terminated)
    mask = torch.ones(3, 7, dtype=F)
    gamma = 0.9
    # lambda = 0: the TD residual.
    torch.testing.assert_close(
        gae(rewards, values, next_values, terminated, no, mask, gamma=gamma, gae_lambda=0.0),
        td_residuals(rewards, values, next_values, terminated, gamma=gamma),
    )
    # lambda = 1 on whole episodes: the discounted return-to-go minus V.
    torch.testing.assert_close(
        gae(rewards, values, next_values, terminated, no, mask, gamma=gamma, gae_lambda=1.0)
        + values,
        returns_to_go(rewards, mask, gamma=gamma),
    )
    # Reward-to-go with gamma = 1 is the reversed cumulative sum.
    torch.testing.assert_close(
        reward_to_go(rewards, mask, gamma=1.0), rewards.flip(1).cumsum(1).flip(1)
    )
    # ... and with gamma < 1 it is gamma^t times the return-to-go.
    discounts = gamma ** torch.arange(7, dtype=F)
    torch.testing.assert_close(
        reward_to_go(rewards, mask, gamma=gamma),
        returns_to_go(rewards, mask, gamma=gamma) * discounts,
    )


@pytest.mark.parametrize("seed", range(12))
def test_matches_the_reference_loops(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, horizon = int(rng.integers(1, 5)), int(rng.integers(1, 9))
    rewards, values, next_values = (rng.normal(size=(rows, horizon)) for _ in range(3))
    terminated = rng.random((rows, horizon)) < 0.2
    truncated = (rng.random((rows, horizon)) < 0.2) & ~terminated
    mask = (rng.random((rows, horizon)) < 0.85).astype(float)
    gamma, lam = float(rng.uniform(0.5, 1.0)), float(rng.uniform(0.0, 1.0))
    out = gae(
        *(torch.from_numpy(x) for x in (rewards, values, next_values, terminated, truncated, mask)),
        gamma=gamma, gae_lambda=lam,
    )  # fmt: skip
    expected = gae_reference(rewards, values, next_values, terminated, truncated, mask, gamma, lam)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(
        returns_to_go(torch.from_numpy(rewards), torch.from_numpy(mask), gamma=gamma).numpy(),
        returns_to_go_reference(rewards, mask, gamma),
        atol=1e-12,
    )


def test_no_information_crosses_a_termination() -> None:
    rewards = t([[1.0, 1.0, 5.0, 5.0]])
    values = torch.zeros(1, 4, dtype=F)
    terminated = t([[False, True, False, False]], torch.bool)
    mask = torch.ones(1, 4, dtype=F)
    base = gae(rewards, values, values, terminated, torch.zeros_like(terminated), mask, gamma=1.0,
               gae_lambda=1.0)  # fmt: skip
    rewards[0, 2:] = 100.0
    after = gae(rewards, values, values, terminated, torch.zeros_like(terminated), mask, gamma=1.0,
               gae_lambda=1.0)  # fmt: skip
    torch.testing.assert_close(base[:, :2], after[:, :2])


def test_baseline_and_standardize() -> None:
    weights = t([[3.0, 3.0, 0.0], [1.0, 0.0, 0.0]])
    mask = t([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    # t = 0: each trajectory's baseline is the other's weight; t = 1: no other runs, b = 0
    torch.testing.assert_close(
        batch_mean_baseline(weights, mask), t([[2.0, 3.0, 0.0], [-2.0, 0.0, 0.0]])
    )
    z = standardize(weights, mask)
    real = z[mask.bool()]
    assert abs(real.mean().item()) < 1e-9 and abs(real.std(unbiased=False).item() - 1) < 1e-6
    assert (z[~mask.bool()] == 0).all()
