"""Independent categoricals, one per dimension: MultiDiscrete actions.

The network gives sum(nvec) logits; dimension i owns the slice of nvec[i] of them. They are laid
out padded to [B, d, max(nvec)] with -inf beyond each dimension's size, so log-softmax, sampling
(Gumbel-max per dimension) and the mode are single batched operations. log pi(a|s) is the sum
of the dimensions' log-probabilities, and the entropy the sum of their entropies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn

from pgrad.errors import PgradError
from pgrad.policies.heads.categorical import gumbel_noise


class MultiCategoricalHead(nn.Module):
    """One categorical per entry of ``nvec`` (actions int64 [B, d], each in [0, nvec[i]))."""

    numpy_form = True
    action_dtype = np.int64

    def __init__(self, nvec: np.ndarray, start: np.ndarray) -> None:
        super().__init__()
        self.nvec = np.asarray(nvec, np.int64)
        self._start = np.asarray(start, np.int64)
        d, width = int(self.nvec.shape[0]), int(self.nvec.max())
        self.num_outputs = int(self.nvec.sum())
        self.action_shape = (d,)
        # index[i, k]: the output feeding logit k of dimension i (0 where k >= nvec[i], masked).
        offsets = np.concatenate([[0], np.cumsum(self.nvec)[:-1]])
        index = offsets[:, None] + np.arange(width)[None, :]
        valid = np.arange(width)[None, :] < self.nvec[:, None]
        self._index_np, self._valid_np = np.where(valid, index, 0), valid
        self.register_buffer("_index", torch.from_numpy(self._index_np), persistent=False)
        self.register_buffer("_valid", torch.from_numpy(valid), persistent=False)

    def _padded(self, out: Tensor) -> Tensor:
        """Logits [B, d, max(nvec)], -inf beyond each dimension's size."""
        logits = out[:, self._index]
        return logits.masked_fill(~self._valid, -torch.inf)

    def _padded_np(self, out: np.ndarray) -> np.ndarray:
        return np.where(self._valid_np, out[:, self._index_np], -np.inf)

    def log_prob_entropy(self, out: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        """Summed log-probabilities of actions int64 [B, d] and summed entropies, each [B]."""
        logp = torch.log_softmax(self._padded(out), -1)
        log_prob = logp.gather(2, actions.long().unsqueeze(2)).squeeze(2).sum(-1)
        plogp = torch.where(self._valid, logp.exp() * logp, torch.zeros_like(logp))
        return log_prob, -plogp.sum((-1, -2))

    def distribution(self, out: Tensor) -> Tensor:
        """pi(.|s) as one tensor: log-probabilities [B, d, max(nvec)], 0 beyond each size."""
        return torch.log_softmax(self._padded(out), -1).masked_fill(~self._valid, 0.0)

    def kl(self, old: Tensor, new: Tensor) -> Tensor:
        """KL(old || new) [B], summed over the dimensions, of two :meth:`distribution` tensors."""
        return (old.exp() * self._valid * (old - new)).sum((-1, -2))

    def noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Gumbel noise (as -G) for every padded logit, float32 [*shape, d, max(nvec)]."""
        return gumbel_noise(rng, (*shape, *self._valid_np.shape))

    def sample(self, out: Tensor, noise: Tensor) -> Tensor:
        """Per dimension argmax(logits - noise), int64 [B, d]."""
        return (self._padded(out) - noise).argmax(-1)

    def mode(self, out: Tensor) -> Tensor:
        """Per dimension argmax of the logits, int64 [B, d]."""
        return self._padded(out).argmax(-1)

    def numpy_sampler(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """:meth:`sample_np` itself (the head has no parameters)."""
        return self.sample_np

    def sample_np(self, out: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """NumPy form of :meth:`sample`."""
        return (self._padded_np(out) - noise).argmax(-1)

    def mode_np(self, out: np.ndarray) -> np.ndarray:
        """NumPy form of :meth:`mode`."""
        return self._padded_np(out).argmax(-1)

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Indices shifted by the space's start."""
        return actions + self._start if self._start.any() else actions


def build(space: gym.Space[Any], init_log_std: float) -> nn.Module:
    """The head of a one-dimensional MultiDiscrete space."""
    assert isinstance(space, gym.spaces.MultiDiscrete)
    if space.nvec.ndim != 1:
        raise PgradError(
            f"action space {space} has nvec of shape {space.nvec.shape}; pgrad needs a "
            "one-dimensional MultiDiscrete (wrap the environment to flatten its actions)"
        )
    return MultiCategoricalHead(space.nvec, space.start)
