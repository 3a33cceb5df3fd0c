"""Diagonal Gaussian head: Box actions, clipped to the bounds when sent to the environment."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn

from pgrad.errors import PgradError
from pgrad.policies.flat import grad_view

HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)
LOG_STD_BOUNDS = (-20.0, 2.0)
"""The Gaussian's log standard deviation is clamped to this range wherever it is used (the
standard deviation stays within [2e-9, 7.4]): a diverging log std cannot overflow exp()."""


class GaussianHead(nn.Module):
    """Diagonal Gaussian N(mean, exp(log_std)^2) with a learned, state-independent log std.

    The unclipped sample is what the log-probability refers to; it is clipped to the action bounds
    only when sent to the environment (:meth:`to_env`).
    """

    numpy_form = True
    numpy_grad = True
    action_dtype = np.float32

    def __init__(self, low: np.ndarray, high: np.ndarray, init_log_std: float = 0.0) -> None:
        super().__init__()
        dim = int(low.shape[0])
        self.num_outputs = dim
        self.action_shape = (dim,)
        self.log_std = nn.Parameter(torch.full((dim,), float(init_log_std)))
        self._low = np.asarray(low, np.float32)
        self._high = np.asarray(high, np.float32)

    @property
    def _log_std_np(self) -> np.ndarray:
        """The log std's memory as a NumPy view (optimiser steps show in it)."""
        return self.log_std.detach().numpy()

    def bounded_log_std(self) -> Tensor:
        """The log std clamped to :data:`LOG_STD_BOUNDS` (identical to it inside them)."""
        return self.log_std.clamp(*LOG_STD_BOUNDS)

    def log_prob_entropy(self, out: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        """Gaussian log density of actions [B, d] (summed over d) and the entropy, each [B]."""
        log_std = self.bounded_log_std()
        z = (actions - out) * torch.exp(-log_std)
        log_prob = (-0.5 * z.square() - log_std - HALF_LOG_TWO_PI).sum(-1)
        entropy = (0.5 + HALF_LOG_TWO_PI + log_std).sum().expand(out.shape[0])
        return log_prob, entropy

    def distribution(self, out: Tensor) -> Tensor:
        """pi(.|s) as one tensor: means and log standard deviations, [B, 2d]."""
        return torch.cat([out, self.bounded_log_std().expand_as(out)], -1)

    def kl(self, old: Tensor, new: Tensor) -> Tensor:
        """KL(old || new) [B] of two :meth:`distribution` tensors (diagonal Gaussians; the same
        for the squashed head, as a fixed bijection of both leaves a KL divergence unchanged)."""
        mean_o, log_std_o = old.chunk(2, -1)
        mean_n, log_std_n = new.chunk(2, -1)
        ratio = (torch.exp(2 * log_std_o) + (mean_o - mean_n).square()) / torch.exp(2 * log_std_n)
        return (log_std_n - log_std_o + 0.5 * ratio - 0.5).sum(-1)

    def log_prob_entropy_np(
        self, out: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """NumPy form of :meth:`log_prob_entropy`, and what :meth:`backward_np` needs."""
        low, high = LOG_STD_BOUNDS
        log_std = np.minimum(np.maximum(self._log_std_np, low), high)
        inv_std = np.exp(-log_std)
        z = (actions - out) * inv_std
        ones = np.ones(z.shape[-1], z.dtype)  # (z * z) @ ones: the row sums, via BLAS
        log_prob = (z * z) @ ones * -0.5 - float(log_std.sum() + HALF_LOG_TWO_PI * z.shape[-1])
        entropy = np.full(out.shape[0], (0.5 + HALF_LOG_TWO_PI) * z.shape[-1] + log_std.sum(),
                          out.dtype)  # fmt: skip
        return log_prob, entropy, (z, inv_std)

    def backward_np(
        self, saved: tuple[np.ndarray, np.ndarray], d_log_prob: np.ndarray, d_entropy: np.ndarray
    ) -> np.ndarray:
        """dL/d mean [B, d] from dL/d log pi and dL/dH [B]; writes dL/d log_std into its grad.

        d log pi / d mean = z / std and d log pi / d log_std = z^2 - 1 (z = (a - mean) / std);
        dH / d log_std = 1; the clamp passes the gradient inside its bounds (inclusive).
        """
        z, inv_std = saved
        d_z = d_log_prob[:, None] * z
        d_log_std = d_log_prob @ (z * z) - float(d_log_prob.sum()) + float(d_entropy.sum())
        low, high = LOG_STD_BOUNDS
        raw = self._log_std_np
        d_log_std *= (raw >= low) & (raw <= high)
        grad_view(self.log_std)[...] = d_log_std
        return d_z * inv_std

    def noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Standard normal draws, float32 [*shape, d]."""
        return rng.standard_normal((*shape, self.num_outputs), dtype=np.float32)

    def sample(self, out: Tensor, noise: Tensor) -> Tensor:
        """mean + exp(log_std) * noise, float [B, d]."""
        return out + noise * torch.exp(self.bounded_log_std())

    def mode(self, out: Tensor) -> Tensor:
        """The mean."""
        return out

    def sample_np(self, out: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """mean + exp(log_std) * noise; overwrites ``out``."""
        return self.numpy_sampler()(out, noise)

    def numpy_sampler(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """:meth:`sample_np` with exp(log_std) computed now, once for a rollout's steps (it costs
        four NumPy calls, about 4 us, of a step's 15 us of acting)."""
        low, high = LOG_STD_BOUNDS  # minimum(maximum()): np.clip's dispatch costs more here
        std = np.exp(np.minimum(np.maximum(self._log_std_np, low), high))

        def sample(out: np.ndarray, noise: np.ndarray) -> np.ndarray:
            out += noise * std
            return out

        return sample

    def mode_np(self, out: np.ndarray) -> np.ndarray:
        """The mean."""
        return out

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Actions clipped to the Box bounds."""
        return np.minimum(np.maximum(actions, self._low), self._high)



def box_dim(space: gym.Space[Any], head: str) -> int:
    """The size of a one-dimensional Box action space, or a one-line error for any other."""
    assert isinstance(space, gym.spaces.Box)
    if len(space.shape) != 1:
        raise PgradError(
            f"action space {space} has shape {space.shape}; pgrad's {head} head needs a "
            "one-dimensional Box (wrap the environment to flatten its actions)"
        )
    return int(space.shape[0])


def build(space: gym.Space[Any], init_log_std: float) -> nn.Module:
    """The clipped Gaussian of a one-dimensional Box."""
    assert isinstance(space, gym.spaces.Box)
    box_dim(space, "Gaussian")
    return GaussianHead(space.low.astype(np.float32), space.high.astype(np.float32), init_log_std)
