"""Advantages: baselines and generalized advantage estimation, pure functions over [B, T] tensors.

See :mod:`pgrad.types` for the layout (batch first, time last, padded with a mask) and for the
terminated/truncated convention: the bootstrap V(s_{t+1}) is dropped where ``terminated[b, t]``,
and the recursion is cut where ``terminated | truncated``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from pgrad.estimators.returns import check_episode_batch, reverse_scan


def td_residuals(
    rewards: Tensor, values: Tensor, next_values: Tensor, terminated: Tensor, *, gamma: float
) -> Tensor:
    """delta_t = r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t), float [B, T].

    Args:
        rewards, values, next_values: float [B, T]; ``next_values[b, t]`` is V of the true
            successor of step t (the final observation when the episode ended there).
        terminated: bool [B, T].
        gamma: discount in (0, 1].
    """
    check_episode_batch(rewards=rewards, values=values, next_values=next_values)
    return rewards + gamma * (~terminated).to(rewards.dtype) * next_values - values


def gae(
    rewards: Tensor,
    values: Tensor,
    next_values: Tensor,
    terminated: Tensor,
    truncated: Tensor,
    mask: Tensor,
    *,
    gamma: float,
    gae_lambda: float,
) -> Tensor:
    """Generalized advantage estimates (Schulman et al., 2016, arXiv:1506.02438).

    A_t = delta_t + gamma lambda c_t A_{t+1},  c_t = 1 - (terminated_t | truncated_t),
    with delta_t from :func:`td_residuals`. A time-limit truncation bootstraps from V of the
    true final observation (through ``next_values``); a termination does not. After the last
    column the recursion stops, so a fixed-length rollout bootstraps from ``next_values`` there.
    A masked step (padding, an autoreset step) is 0 and nothing flows through it.
    lambda = 0 gives delta_t; lambda = 1 gives the bootstrapped discounted return minus V(s_t).

    Args:
        rewards, values, next_values: float [B, T].
        terminated, truncated: bool [B, T].
        mask: float [B, T], 1.0 on real steps (padding and autoreset steps are 0.0).
        gamma: discount in (0, 1].
        gae_lambda: lambda in [0, 1].

    Returns:
        advantages, float [B, T], 0.0 where ``mask`` is 0. Value targets are advantages + values.
    """
    check_episode_batch(
        rewards=rewards, values=values, next_values=next_values,
        terminated=terminated, truncated=truncated, mask=mask,
    )  # fmt: skip
    delta = td_residuals(rewards, values, next_values, terminated, gamma=gamma) * mask
    carry = gamma * gae_lambda * (~(terminated | truncated)).to(rewards.dtype) * mask
    return reverse_scan(delta, carry)


def batch_mean_baseline(weights: Tensor, mask: Tensor) -> Tensor:
    """Psi_t - b_t, with b_t for trajectory i the mean of the *other* trajectories' Psi_t.

    b_t^i = (sum_{j != i} Psi_t^j mask_t^j) / (sum_{j != i} mask_t^j), 0 where no other trajectory
    is still running at t. It depends only on the other trajectories, which are independent of
    trajectory i, so E[grad log pi(a_t^i|s_t^i) b_t^i] = 0 and the estimate stays unbiased for any
    m >= 2 (a plain batch mean, i included, would bias it by O(1/m)). float [B, T].
    """
    check_episode_batch(weights=weights, mask=mask)
    total = (weights * mask).sum(dim=0, keepdim=True)  # [1, T]
    count = mask.sum(dim=0, keepdim=True)
    others = count - mask
    baseline = (total - weights * mask) / others.clamp_min(1.0)
    return (weights - baseline) * mask


def value_baseline(weights: Tensor, values: Tensor, mask: Tensor, *, gamma: float) -> Tensor:
    """Psi_t - gamma^t V(s_t): a state-value baseline for weights discounted from time 0.

    Any function of s_t keeps the estimator unbiased; gamma^t V(s_t) is the one that matches
    :func:`pgrad.estimators.reward_to_go` (= gamma^t G_t) when V(s_t) estimates G_t.

    Args:
        weights: float [B, T], Psi_t.
        values: float [B, T], V(s_t).
        mask: float [B, T].
        gamma: discount in (0, 1].
    """
    _, horizon = check_episode_batch(weights=weights, values=values, mask=mask)
    discounts = gamma ** torch.arange(horizon, dtype=weights.dtype, device=weights.device)
    return (weights - discounts * values) * mask


def standardize(x: Tensor, mask: Tensor, eps: float = 1e-8) -> Tensor:
    """(x - mean) / (std + eps) over the real steps (``mask`` 1.0); 0.0 elsewhere. [B, T].

    The same operations serve NumPy arrays (the fast update path's minibatches)."""
    count = max(float(mask.sum()), 1.0)
    mean = (x * mask).sum() / count
    var = (((x - mean) * mask) ** 2).sum() / count
    return (x - mean) / (var**0.5 + eps) * mask
