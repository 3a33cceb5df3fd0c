"""Categorical head: Discrete actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn

from pgrad.errors import PgradError

TINY = np.finfo(np.float32).tiny


def gumbel_noise(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """-G = log E with E ~ Exponential(1), float32 ``shape``: argmax(logits - noise) is a sample.

    argmax_k(logits_k + G_k) with G_k i.i.d. standard Gumbel has P(argmax = k) = softmax(logits)_k.
    """
    noise = rng.standard_exponential(shape, dtype=np.float32)
    np.maximum(noise, TINY, out=noise)  # E = 0 (G = +inf) stays a sure win, warning-free
    return np.log(noise, out=noise)


class CategoricalHead(nn.Module):
    """Categorical over ``n`` actions from logits [B, n]; sampled by the Gumbel-max trick.

    argmax_k(logits_k + G_k) with G_k i.i.d. standard Gumbel has P(argmax = k) = softmax(logits)_k.
    The noise stored is -G = log E with E ~ Exponential(1), so a sample is argmax(logits - noise).
    """

    numpy_form = True
    numpy_grad = True
    action_shape: tuple[int, ...] = ()
    action_dtype = np.int64

    def __init__(self, n: int) -> None:
        super().__init__()
        self.num_outputs = n

    def log_prob_entropy(self, out: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        """log softmax at the taken actions (int64 [B]) and the entropy, each [B]."""
        logp_all = torch.log_softmax(out, -1)
        log_prob = logp_all.gather(1, actions.long().unsqueeze(1)).squeeze(1)
        return log_prob, -(logp_all.exp() * logp_all).sum(-1)

    def distribution(self, out: Tensor) -> Tensor:
        """pi(.|s) as one tensor: the log-probabilities [B, n]."""
        return torch.log_softmax(out, -1)

    def kl(self, old: Tensor, new: Tensor) -> Tensor:
        """KL(old || new) [B] of two :meth:`distribution` tensors."""
        return (old.exp() * (old - new)).sum(-1)

    def noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """-G = log E, E ~ Exponential(1), float32 [*shape, n]."""
        return gumbel_noise(rng, (*shape, self.num_outputs))

    def sample(self, out: Tensor, noise: Tensor) -> Tensor:
        """argmax(logits - noise), int64 [B]."""
        return (out - noise).argmax(dim=1)

    def mode(self, out: Tensor) -> Tensor:
        """argmax of the logits, int64 [B]."""
        return out.argmax(dim=1)

    def log_prob_entropy_np(
        self, out: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """NumPy form of :meth:`log_prob_entropy`, and what :meth:`backward_np` needs."""
        shifted = out - out.max(axis=1, keepdims=True)
        logp_all = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        p = np.exp(logp_all)
        entropy = -(p * logp_all).sum(axis=1)
        rows = np.arange(out.shape[0])
        actions = actions.astype(np.int64)
        return logp_all[rows, actions], entropy, (p, logp_all, entropy, actions)

    def backward_np(
        self, saved: tuple[np.ndarray, ...], d_log_prob: np.ndarray, d_entropy: np.ndarray
    ) -> np.ndarray:
        """dL/d logits [B, n] from dL/d log pi and dL/dH [B].

        d log pi(a) / d logits = onehot(a) - p;  dH / d logits = -p (log p + H).
        """
        p, logp_all, entropy, actions = saved
        d_out = -(d_log_prob[:, None] + d_entropy[:, None] * (logp_all + entropy[:, None])) * p
        d_out[np.arange(p.shape[0]), actions] += d_log_prob
        return d_out

    def numpy_sampler(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """:meth:`sample_np` itself (the head has no parameters)."""
        return self.sample_np

    def sample_np(self, out: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """argmax(logits - noise), int64 [N]; overwrites ``out``."""
        out -= noise
        return out.argmax(axis=1)

    def mode_np(self, out: np.ndarray) -> np.ndarray:
        """argmax of the logits, int64 [N]."""
        return out.argmax(axis=1)

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Indices as they are."""
        return actions



def build(space: gym.Space[Any], init_log_std: float) -> nn.Module:
    """The head of a Discrete space numbered from 0."""
    assert isinstance(space, gym.spaces.Discrete)
    if int(space.start) != 0:
        raise PgradError(
            f"action space {space} starts at {space.start}; pgrad needs Discrete actions "
            "numbered from 0 (wrap the environment to shift them)"
        )
    return CategoricalHead(int(space.n))
