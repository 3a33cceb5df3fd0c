"""Tanh-squashed diagonal Gaussian head: Box actions with finite bounds, no clipping.

u ~ N(mean, std^2) and a = low + (tanh(u) + 1) (high - low) / 2, so every action lies inside the
bounds and the density is smooth up to them (Haarnoja et al., 2018, arXiv:1801.01290,
appendix C). The change of variables gives

    log pi(a|s) = log N(u; mean, std) - sum_i [log((high_i - low_i) / 2) + log(1 - tanh(u_i)^2)],

with log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), which stays finite where tanh(u)^2
rounds to 1. A batch stores u, not a: u -> a is a bijection, so log pi(a|s) is the same function
of u, and u never needs the atanh of an action at the bounds.

The entropy of a squashed Gaussian has no closed form. It is estimated from the stored sample:
H = H[N(mean, std)] + E[sum_i log|da_i/du_i|], with the expectation replaced by its value at
u' = mean + std * eps, eps = (u - mean) / std held constant (a one-sample, reparametrised
estimate; unbiased while the policy is the one that drew u, as at PPO's first epoch).
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.functional import softplus

from pgrad.errors import PgradError
from pgrad.policies.heads.gaussian import HALF_LOG_TWO_PI, GaussianHead, box_dim

_LOG_TWO = math.log(2.0)


def log_one_minus_tanh_sq(u: Tensor) -> Tensor:
    """log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), elementwise, stable for large |u|."""
    return 2.0 * (_LOG_TWO - u - softplus(-2.0 * u))


class SquashedGaussianHead(GaussianHead):
    """N(mean, exp(log_std)^2) in u, sent to the environment as low + (tanh(u) + 1)(high - low)/2.

    Sampling, noise and the NumPy form are the Gaussian's (in u); only the log-probability, the
    entropy and :meth:`to_env` differ.
    """

    def __init__(self, low: np.ndarray, high: np.ndarray, init_log_std: float = 0.0) -> None:
        super().__init__(low, high, init_log_std)
        half = (self._high.astype(np.float64) - self._low.astype(np.float64)) / 2.0
        self._half_range = half.astype(np.float32)
        self._log_half_range = float(np.log(half).sum())

    def _log_jacobian(self, u: Tensor) -> Tensor:
        """sum_i log|da_i/du_i| [B] for u [B, d]."""
        return log_one_minus_tanh_sq(u).sum(-1) + self._log_half_range

    def log_prob_entropy(self, out: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        """log pi(a|s) of stored u [B, d] (change of variables included) and the one-sample
        entropy estimate, each [B]."""
        log_std = self.bounded_log_std()
        inv_std = torch.exp(-log_std)
        z = (actions - out) * inv_std
        gaussian = (-0.5 * z.square() - log_std - HALF_LOG_TWO_PI).sum(-1)
        log_prob = gaussian - self._log_jacobian(actions)
        u_rep = out + torch.exp(log_std) * z.detach()
        entropy = (0.5 + HALF_LOG_TWO_PI + log_std).sum() + self._log_jacobian(u_rep)
        return log_prob, entropy

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """low + (tanh(u) + 1) (high - low) / 2, float32, within the bounds."""
        a = self._low + (np.tanh(actions) + 1.0) * self._half_range
        return np.clip(a, self._low, self._high).astype(np.float32)  # rounding at the bounds


def build(space: gym.Space[Any], init_log_std: float) -> nn.Module:
    """The squashed Gaussian of a one-dimensional Box whose bounds are finite."""
    assert isinstance(space, gym.spaces.Box)
    box_dim(space, "squashed Gaussian")
    if not (np.isfinite(space.low).all() and np.isfinite(space.high).all()):
        raise PgradError(
            f"action space {space} has infinite bounds; --action-dist squashed needs finite ones "
            "(use --action-dist gaussian)"
        )
    return SquashedGaussianHead(space.low.astype(np.float32), space.high.astype(np.float32),
                                init_log_std)  # fmt: skip
