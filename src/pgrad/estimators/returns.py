"""Returns of padded episode batches: pure functions over [m, T] tensors.

See :mod:`pgrad.types` for the padding and end-of-step conventions.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def check_episode_batch(**tensors: Tensor) -> tuple[int, int]:
    """Check that every tensor is [m, T] with the same m and T; return (m, T).

    Raises:
        ValueError: naming the offending argument and its shape.
    """
    shape: tuple[int, int] | None = None
    for name, tensor in tensors.items():
        if tensor.dim() != 2:
            raise ValueError(f"{name} must be [m, T], got shape {tuple(tensor.shape)}")
        if shape is None:
            shape = (tensor.shape[0], tensor.shape[1])
        elif tuple(tensor.shape) != shape:
            raise ValueError(f"{name} has shape {tuple(tensor.shape)}, expected {shape}")
    if shape is None:
        raise ValueError("no tensors given")
    return shape


def discounted_returns(rewards: Tensor, mask: Tensor, *, gamma: float) -> Tensor:
    """Whole-trajectory returns R(tau_i) = sum_t gamma^t r_t (the seed's R(tau)).

    Args:
        rewards: float [m, T], zero-padded after each episode's end.
        mask: float [m, T], 1.0 on real steps and 0.0 on padding.
        gamma: discount in (0, 1].

    Returns:
        float [m], one return per trajectory.
    """
    _, horizon = check_episode_batch(rewards=rewards, mask=mask)
    discounts = gamma ** torch.arange(horizon, dtype=rewards.dtype, device=rewards.device)
    return (rewards * mask * discounts).sum(dim=1)


def trajectory_return_weights(rewards: Tensor, mask: Tensor, *, gamma: float) -> Tensor:
    """Psi_t = R(tau_i) for every step t of trajectory i: the weights of the seed's g_hat.

    Args:
        rewards: float [m, T], zero-padded.
        mask: float [m, T], 1.0 on real steps.
        gamma: discount in (0, 1].

    Returns:
        float [m, T]: R(tau_i) on real steps, 0.0 on padding.
    """
    return discounted_returns(rewards, mask, gamma=gamma).unsqueeze(1) * mask


def returns_to_go(rewards: Tensor, mask: Tensor, *, gamma: float) -> Tensor:
    """G_t = sum_{t' >= t} gamma^(t' - t) r_t': the discounted return from step t on.

    The usual target of a value function V(s_t) (it does not bootstrap: use :func:`gae` with
    ``gae_lambda = 1`` for episodes cut by a time limit).

    Args:
        rewards: float [m, T], zero-padded.
        mask: float [m, T], 1.0 on real steps.
        gamma: discount in (0, 1].

    Returns:
        float [m, T]: G_t on real steps, 0.0 on padding.
    """
    check_episode_batch(rewards=rewards, mask=mask)
    return reverse_scan(rewards * mask, torch.full_like(rewards, gamma)) * mask


def reverse_scan(x: Tensor, c: Tensor) -> Tensor:
    """y_t = x_t + c_t y_{t+1} along time, from y_T = 0: the recursion of returns and GAE.

    Args:
        x, c: float [B, T].

    Returns:
        float [B, T], y.

    The recursion runs over T in NumPy, one [B] column per step: a PyTorch operation per step
    costs several times a NumPy one at this size (a 2048-step rollout took 20 ms through PyTorch,
    a few through NumPy); the arithmetic is the same, operation for operation.
    """
    xs = np.ascontiguousarray(x.detach().numpy().T)
    cs = np.ascontiguousarray(c.detach().numpy().T)
    out = np.empty_like(xs)
    running = np.zeros_like(xs[0])
    for t in range(xs.shape[0] - 1, -1, -1):
        running = xs[t] + cs[t] * running
        out[t] = running
    return torch.from_numpy(np.ascontiguousarray(out.T))


def reward_to_go(rewards: Tensor, mask: Tensor, *, gamma: float) -> Tensor:
    """Psi_t = sum_{t' >= t} gamma^t' r_t' = gamma^t G_t: rewards from step t on, discounted from 0.

    Dropping the rewards before t keeps the estimator unbiased (an action cannot change rewards
    already received) and removes their noise. Discounting from time 0, not from t, makes it an
    unbiased estimate of the gradient of the discounted objective J = E[sum_t gamma^t r_t]; it
    equals gamma^t times :func:`returns_to_go`, and is computed as a suffix sum of gamma^t' r_t'.

    Args:
        rewards: float [m, T], zero-padded.
        mask: float [m, T], 1.0 on real steps.
        gamma: discount in (0, 1].

    Returns:
        float [m, T]: Psi_t on real steps, 0.0 on padding.
    """
    _, horizon = check_episode_batch(rewards=rewards, mask=mask)
    discounts = gamma ** torch.arange(horizon, dtype=rewards.dtype, device=rewards.device)
    discounted = rewards * mask * discounts
    # A suffix sum: one reversed cumulative sum over time, no loop over t.
    return discounted.flip(1).cumsum(1).flip(1) * mask
