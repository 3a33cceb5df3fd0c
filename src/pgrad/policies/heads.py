"""Action heads: the distribution pi(.|s) over one action space, from the network's outputs.

:func:`make_head` is the one mapping from a Gymnasium action space to a head (the idea of
Stable-Baselines3's ``make_proba_distribution``); :data:`HEADS` registers each head by the name of
the space it serves. A head is a small ``nn.Module`` (the Gaussian owns its log standard
deviation) with two forms side by side:

- the PyTorch form, for the losses and for acting through torch: ``log_prob_entropy``, ``sample``
  (from noise drawn by ``noise``) and ``mode``;
- the NumPy form, for the fast acting path of :class:`pgrad.policies.actor.NumpyActor`:
  ``sample_np`` and ``mode_np``, over the same noise. A head
  whose ``numpy_form`` is False acts through torch only (:class:`pgrad.policies.actor.TorchActor`).

Both forms consume the same noise, so for the same draws they give the same actions
(``tests/policies/test_heads.py`` checks the parity). The noise of a step is drawn by the caller's
``numpy.random.Generator``, for many steps in one call, so rollouts are reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn

from pgrad.errors import PgradError

_HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)
LOG_STD_BOUNDS = (-20.0, 2.0)
"""The Gaussian's log standard deviation is clamped to this range wherever it is used (the
standard deviation stays within [2e-9, 7.4]): a diverging log std cannot overflow exp()."""
_TINY = np.finfo(np.float32).tiny


class ActionHead(Protocol):
    """What the policy, the samplers and the losses need of an action distribution."""

    num_outputs: int
    """Network outputs per observation that parametrise the distribution."""
    action_shape: tuple[int, ...]
    """Shape of one action as stored in a batch (``()`` for a categorical)."""
    action_dtype: type[np.generic]
    """NumPy dtype of stored actions."""
    numpy_form: bool
    """Whether :meth:`sample_np` and :meth:`mode_np` exist (the NumPy acting path)."""

    def log_prob_entropy(self, out: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        """log pi(a|s) and the entropy of pi(.|s), each [B], for outputs [B, num_outputs]."""
        ...

    def noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Noise for ``shape`` = (steps, N) draws, float32 [steps, N, noise_size]."""
        ...

    def sample(self, out: Tensor, noise: Tensor) -> Tensor:
        """a ~ pi(.|s) [B, *action_shape] from outputs [B, num_outputs] and one step of noise."""
        ...

    def mode(self, out: Tensor) -> Tensor:
        """The most likely action [B, *action_shape]."""
        ...

    def sample_np(self, out: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """NumPy form of :meth:`sample` (may overwrite ``out``)."""
        ...

    def mode_np(self, out: np.ndarray) -> np.ndarray:
        """NumPy form of :meth:`mode`."""
        ...

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Stored actions as the environment takes them."""
        ...


class CategoricalHead(nn.Module):
    """Categorical over ``n`` actions from logits [B, n]; sampled by the Gumbel-max trick.

    argmax_k(logits_k + G_k) with G_k i.i.d. standard Gumbel has P(argmax = k) = softmax(logits)_k.
    The noise stored is -G = log E with E ~ Exponential(1), so a sample is argmax(logits - noise).
    """

    numpy_form = True
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

    def noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """-G = log E, E ~ Exponential(1), float32 [*shape, n]."""
        noise = rng.standard_exponential((*shape, self.num_outputs), dtype=np.float32)
        np.maximum(noise, _TINY, out=noise)  # E = 0 (G = +inf) stays a sure win, warning-free
        return np.log(noise, out=noise)

    def sample(self, out: Tensor, noise: Tensor) -> Tensor:
        """argmax(logits - noise), int64 [B]."""
        return (out - noise).argmax(dim=1)

    def mode(self, out: Tensor) -> Tensor:
        """argmax of the logits, int64 [B]."""
        return out.argmax(dim=1)

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


class GaussianHead(nn.Module):
    """Diagonal Gaussian N(mean, exp(log_std)^2) with a learned, state-independent log std.

    The unclipped sample is what the log-probability refers to; it is clipped to the action bounds
    only when sent to the environment (:meth:`to_env`).
    """

    numpy_form = True
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
        log_prob = (-0.5 * z.square() - log_std - _HALF_LOG_TWO_PI).sum(-1)
        entropy = (0.5 + _HALF_LOG_TWO_PI + log_std).sum().expand(out.shape[0])
        return log_prob, entropy

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
        out += noise * np.exp(np.clip(self._log_std_np, *LOG_STD_BOUNDS))
        return out

    def mode_np(self, out: np.ndarray) -> np.ndarray:
        """The mean."""
        return out

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Actions clipped to the Box bounds."""
        return np.clip(actions, self._low, self._high)


def _categorical(space: gym.Space[Any], init_log_std: float) -> nn.Module:
    assert isinstance(space, gym.spaces.Discrete)
    if int(space.start) != 0:
        raise PgradError(
            f"action space {space} starts at {space.start}; pgrad needs Discrete actions "
            "numbered from 0 (wrap the environment to shift them)"
        )
    return CategoricalHead(int(space.n))


def _gaussian(space: gym.Space[Any], init_log_std: float) -> nn.Module:
    assert isinstance(space, gym.spaces.Box)
    if len(space.shape) != 1:
        raise PgradError(
            f"action space {space} has shape {space.shape}; pgrad's Gaussian head needs a "
            "one-dimensional Box (wrap the environment to flatten its actions)"
        )
    return GaussianHead(space.low.astype(np.float32), space.high.astype(np.float32), init_log_std)


HEADS: dict[type[gym.Space[Any]], Callable[[gym.Space[Any], float], nn.Module]] = {
    gym.spaces.Discrete: _categorical,
    gym.spaces.Box: _gaussian,
}
"""The head for each kind of action space; a new head is one module and one line here."""


def make_head(space: gym.Space[Any], init_log_std: float = 0.0) -> nn.Module:
    """The action head for ``space``.

    Raises:
        PgradError: the space has no head (naming the spaces that have one).
    """
    build = HEADS.get(type(space))
    if build is None:
        kinds = ", ".join(k.__name__ for k in HEADS)
        raise PgradError(
            f"action space {space} is not supported; pgrad has heads for {kinds} action spaces"
        )
    return build(space, init_log_std)
