"""Action heads: the distribution pi(.|s) over one action space, from the network's outputs.

:func:`make_head` is the one mapping from a Gymnasium action space to a head (the idea of
Stable-Baselines3's ``make_proba_distribution``); :data:`HEADS` registers each head by name with
the space it serves, one module each: ``categorical`` (Discrete), ``gaussian`` (Box, clipped to
the bounds; the default), ``squashed`` (Box, tanh-squashed into finite bounds),
``multi_categorical`` (MultiDiscrete), ``bernoulli`` (MultiBinary). A head is a small
``nn.Module`` (the Gaussians own their log standard deviation) with two forms side by side:

- the PyTorch form, for the losses and for acting through torch: ``log_prob_entropy``, ``sample``
  (from noise drawn by ``noise``) and ``mode``;
- the NumPy form, for the fast acting path of :class:`pgrad.policies.actor.NumpyActor`:
  ``sample_np`` (and ``numpy_sampler``, the same with the parameters read once per rollout)
  and ``mode_np``, over the same noise. A head
  whose ``numpy_form`` is False acts through torch only (:class:`pgrad.policies.actor.TorchActor`).

Both forms consume the same noise, so for the same draws they give the same actions
(``tests/policies/test_heads.py`` checks the parity). The noise of a step is drawn by the caller's
``numpy.random.Generator``, for many steps in one call, so rollouts are reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from torch import Tensor, nn

from pgrad.errors import PgradError
from pgrad.policies.heads import bernoulli, categorical, gaussian, multi_categorical, squashed
from pgrad.policies.heads.bernoulli import BernoulliHead
from pgrad.policies.heads.categorical import CategoricalHead
from pgrad.policies.heads.gaussian import LOG_STD_BOUNDS, GaussianHead
from pgrad.policies.heads.multi_categorical import MultiCategoricalHead
from pgrad.policies.heads.squashed import SquashedGaussianHead

__all__ = [
    "HEADS", "LOG_STD_BOUNDS", "ActionHead", "BernoulliHead", "CategoricalHead", "GaussianHead",
    "MultiCategoricalHead", "SquashedGaussianHead", "make_head",
]  # fmt: skip


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

    def distribution(self, out: Tensor) -> Tensor:
        """pi(.|s) as one tensor [B, ...] (log-probabilities, logits, or means and log stds),
        with autograd through the outputs [B, num_outputs] and the head's own parameters."""
        ...

    def kl(self, old: Tensor, new: Tensor) -> Tensor:
        """KL(old || new) [B] between two :meth:`distribution` tensors, in closed form."""
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

    def numpy_sampler(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """:meth:`sample_np` with the head's parameters as they are now (an actor takes one at
        the start of each rollout, within which they do not change)."""
        ...

    def mode_np(self, out: np.ndarray) -> np.ndarray:
        """NumPy form of :meth:`mode`."""
        ...

    def to_env(self, actions: np.ndarray) -> np.ndarray:
        """Stored actions as the environment takes them."""
        ...



Builder = Callable[[gym.Space[Any], float], nn.Module]

HEADS: dict[str, tuple[type[gym.Space[Any]], Builder]] = {
    "categorical": (gym.spaces.Discrete, categorical.build),
    "gaussian": (gym.spaces.Box, gaussian.build),
    "squashed": (gym.spaces.Box, squashed.build),
    "multi_categorical": (gym.spaces.MultiDiscrete, multi_categorical.build),
    "bernoulli": (gym.spaces.MultiBinary, bernoulli.build),
}
"""Each head by name, with the kind of action space it serves; the first head registered for a
kind is its default. A new head is one module and one line here."""


def make_head(space: gym.Space[Any], dist: str = "auto", init_log_std: float = 0.0) -> nn.Module:
    """The action head for ``space``: ``dist`` names one of :data:`HEADS`, or ``auto``.

    Raises:
        PgradError: the space has no head, or ``dist`` does not serve it (naming what does).
    """
    if dist == "auto":
        dist = next((name for name, (kind, _) in HEADS.items() if type(space) is kind), "")
        if not dist:
            kinds = ", ".join(dict.fromkeys(k.__name__ for k, _ in HEADS.values()))
            raise PgradError(
                f"action space {space} is not supported; pgrad has heads for {kinds} action "
                "spaces"
            )
    if dist not in HEADS:
        raise PgradError(f"unknown action distribution {dist!r}; choose one of {', '.join(HEADS)}")
    kind, build = HEADS[dist]
    if type(space) is not kind:
        fits = [name for name, (k, _) in HEADS.items() if type(space) is k]
        raise PgradError(
            f"--action-dist {dist} needs a {kind.__name__} action space, not {space}; "
            f"for this space use {' or '.join(['auto', *fits])}"
        )
    return build(space, init_log_std)
