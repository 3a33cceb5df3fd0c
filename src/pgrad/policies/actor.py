"""The rollout's policy: an :class:`MLPPolicy`'s forward pass and action sampling in NumPy.

Rollouts and evaluations call the policy once per vector step on a few dozen observations. At that
size a PyTorch forward costs tens of microseconds of dispatch per layer, more than the arithmetic;
the same layers in NumPy cost a few. :class:`Actor` therefore runs the policy network in NumPy over
*views* of the PyTorch parameters' memory: an optimiser step updates the parameters in place, so
the actor always acts with the current weights, and there is nothing to copy or to forget to copy.
Log-probabilities and values for the losses are computed afterwards by PyTorch, in one batched
forward over the whole rollout (:meth:`MLPPolicy.evaluate`).

Sampling: a categorical action is the argmax of the logits plus Gumbel noise (the Gumbel-max
trick: P(argmax = k) = softmax(logits)_k), a few whole-array operations with no softmax or
cumulative sum; a Gaussian action is the mean plus ``exp(log_std)`` times a standard normal draw.
The noise comes from a ``numpy.random.Generator`` the caller owns, so rollouts are reproducible;
samplers draw it for many steps in one call (:meth:`Actor.noise`, :meth:`Actor.sample_with`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from pgrad.policies.mlp import OBS_CLIP, MLPPolicy


class Acting(Protocol):
    """What a rollout or an evaluation needs of a policy (pgrad's :class:`Actor`, or an adapter)."""

    def sample(self, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw a ~ pi(.|s) for observations [N, obs_dim]."""
        ...

    def mode(self, obs: np.ndarray) -> np.ndarray:
        """The most likely action for observations [N, obs_dim]."""
        ...

    def env_action(self, actions: np.ndarray) -> np.ndarray:
        """Actions as the environment takes them."""
        ...


_TINY = np.finfo(np.float32).tiny


def _view(tensor: torch.Tensor) -> np.ndarray:
    """A NumPy array sharing ``tensor``'s memory (updated in place by the optimiser)."""
    return tensor.detach().numpy()


class Actor:
    """``policy``'s action distribution in NumPy, always with the policy's current parameters.

    Args:
        policy: the PyTorch policy (on the CPU). Its parameters must be updated in place, as every
            optimiser (:class:`pgrad.algos.adam.Adam`, ``torch.optim``) and ``load_state_dict`` do.
    """

    def __init__(self, policy: MLPPolicy) -> None:
        self.discrete = policy.discrete
        layers = [m for m in policy.net if isinstance(m, torch.nn.Linear)]
        # Weight of nn.Linear is [out, in]; x @ W.T is a view, no copy.
        *self._hidden, self._out = [(_view(m.weight).T, _view(m.bias)) for m in layers]
        self._relu = policy.spec.activation == "relu"
        self._normalize = policy.spec.normalize_observations
        if self._normalize:
            self._obs_mean = _view(policy.obs_mean)
            self._obs_var = _view(policy.obs_var)
        if not self.discrete:
            self._log_std = _view(policy.log_std)
            self._low = _view(policy.action_low)
            self._high = _view(policy.action_high)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Logits [N, A] (Discrete) or Gaussian means [N, act_dim] (Box), float32.

        Args:
            obs: observations [N, obs_dim] (any float dtype; cast to float32).
        """
        x = np.asarray(obs, dtype=np.float32)
        if self._normalize:
            scale = 1.0 / np.sqrt(self._obs_var + 1e-8)
            x = np.clip((x - self._obs_mean) * scale, -OBS_CLIP, OBS_CLIP).astype(np.float32)
        for w, b in self._hidden:
            x = x @ w
            x += b
            if self._relu:
                np.maximum(x, 0.0, out=x)
            else:
                np.tanh(x, out=x)
        w, b = self._out
        out = x @ w
        out += b
        return out

    def noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Noise for ``shape`` = (steps, N) draws at once, float32 [steps, N, A or act_dim].

        Discrete: -G, the negated Gumbel noise log E with E ~ Exponential(1); Box: standard
        normal. Drawing a rollout's noise in one call is cheaper than one call per step, and
        gives draws of the same distribution.
        """
        full = (*shape, self._out[1].shape[0])
        if not self.discrete:
            return rng.standard_normal(full, dtype=np.float32)
        noise = rng.standard_exponential(full, dtype=np.float32)
        np.maximum(noise, _TINY, out=noise)  # E = 0 (G = +inf) stays a sure win, warning-free
        return np.log(noise, out=noise)

    def sample_with(self, obs: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """a ~ pi(.|s) for obs [N, obs_dim] from one step of :meth:`noise` [N, A or act_dim]."""
        out = self(obs)
        if self.discrete:  # Gumbel-max: argmax(logits + G)
            out -= noise
            return out.argmax(axis=1)
        out += noise * np.exp(self._log_std)
        return out

    def sample(self, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw a ~ pi(.|s): int64 [N] (Discrete) or float32 [N, act_dim] (Box, unclipped)."""
        return self.sample_with(obs, self.noise(rng, (1, obs.shape[0]))[0])

    def mode(self, obs: np.ndarray) -> np.ndarray:
        """argmax of the logits (Discrete) or the Gaussian mean (Box), for obs [N, obs_dim]."""
        out = self(obs)
        return out.argmax(axis=1) if self.discrete else out

    def env_action(self, actions: np.ndarray) -> np.ndarray:
        """Actions as the environment takes them: Box actions clipped to the bounds."""
        if self.discrete:
            return actions
        return np.clip(actions, self._low, self._high)
