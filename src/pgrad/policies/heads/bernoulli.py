"""Independent Bernoullis, one per entry: MultiBinary actions.

Each entry is 1 with probability sigmoid(l) for its logit l. A sample is 1 where l + L > 0 with
L ~ Logistic(0, 1) (then P(1) = P(L > -l) = sigmoid(l)); the noise stored is L. log pi(a|s) sums
a l - softplus(l) over the entries, and the entropy sums softplus(l) - l sigmoid(l).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.functional import softplus

from pgrad.errors import PgradError

_EPS = np.float32(np.finfo(np.float32).eps)


class BernoulliHead(nn.Module):
    """Independent Bernoullis over ``n`` entries (actions int8 [B, n] of 0 and 1)."""

    numpy_form = True
    action_dtype = np.int8

    def __init__(self, n: int) -> None:
        super().__init__()
        self.num_outputs = n
        self.action_shape = (n,)

    def log_prob_entropy(self, out: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        """Summed log-probabilities of actions [B, n] and summed entropies, each [B]."""
        log_prob = (actions.to(out.dtype) * out - softplus(out)).sum(-1)
        entropy = (softplus(out) - out * torch.sigmoid(out)).sum(-1)
        return log_prob, entropy

    def distribution(self, out: Tensor) -> Tensor:
        """pi(.|s) as one tensor: the logits [B, n]."""
        return out

    def kl(self, old: Tensor, new: Tensor) -> Tensor:
        """KL(old || new) [B], summed over the bits, of two :meth:`distribution` tensors."""
        p = torch.sigmoid(old)
        log_p = (-softplus(-old), -softplus(old))  # log p, log (1 - p)
        log_q = (-softplus(-new), -softplus(new))
        return (p * (log_p[0] - log_q[0]) + (1 - p) * (log_p[1] - log_q[1])).sum(-1)

    def noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Standard logistic draws log(u) - log(1 - u), float32 [*shape, n]."""
        u = rng.uniform(_EPS, 1.0 - _EPS, (*shape, self.num_outputs)).astype(np.float32)
        return np.log(u) - np.log1p(-u)

    def sample(self, out: Tensor, noise: Tensor) -> Tensor:
        """1 where logit + noise > 0, int8 [B, n]."""
        return (out + noise > 0).to(torch.int8)

    def mode(self, out: Tensor) -> Tensor:
        """1 where the logit is positive, int8 [B, n]."""
        return (out > 0).to(torch.int8)

    def numpy_sampler(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """:meth:`sample_np` itself (the head has no parameters)."""
        return self.sample_np

    def sample_np(self, out: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """NumPy form of :meth:`sample`."""
        return (out + noise > 0).astype(np.int8)

    def mode_np(self, out: np.ndarray) -> np.ndarray:
        """NumPy form of :meth:`mode`."""
        return (out > 0).astype(np.int8)

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """The 0/1 entries as they are."""
        return actions


def build(space: gym.Space[Any], init_log_std: float) -> nn.Module:
    """The head of a one-dimensional MultiBinary space."""
    assert isinstance(space, gym.spaces.MultiBinary)
    if len(space.shape) != 1:
        raise PgradError(
            f"action space {space} has shape {space.shape}; pgrad needs a one-dimensional "
            "MultiBinary (wrap the environment to flatten its actions)"
        )
    return BernoulliHead(int(space.shape[0]))
