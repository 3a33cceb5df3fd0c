"""The rollout's policy: an :class:`MLPPolicy`'s forward pass and action sampling in NumPy.

Rollouts and evaluations call the policy once per vector step on a few dozen observations. At that
size a PyTorch forward costs tens of microseconds of dispatch per layer, more than the arithmetic;
the same layers in NumPy cost a few. :class:`NumpyActor` therefore runs the policy network in NumPy
over
*views* of the PyTorch parameters' memory: an optimiser step updates the parameters in place, so
the actor always acts with the current weights, and there is nothing to copy or to forget to copy.
Log-probabilities and values for the losses are computed afterwards by PyTorch, in one batched
forward over the whole rollout (:meth:`MLPPolicy.evaluate`).

Sampling is the action head's (:mod:`pgrad.policies.heads`): its NumPy form where it has one,
else the policy acts through PyTorch on the same protocol (:class:`TorchActor`), as it does for
image encoders and recurrent cores. A recurrent policy's actor carries the core's state for its N
copies (``state``); the sampler zeroes it where an episode starts (``reset``) and keeps it
between collections. The noise comes
from a ``numpy.random.Generator`` the caller owns, so rollouts are reproducible; samplers draw it
for many steps in one call (``noise``, ``sample_with``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch

from pgrad.policies.mlp import MLPPolicy, standardized


class Acting(Protocol):
    """What a rollout or an evaluation needs of a policy: noise, sampling, the mode, env actions.

    :class:`NumpyActor` and :class:`TorchActor` implement it for pgrad's policies; an adapter
    around another library's model may implement it too (see ``benchmarks/time_to_solve.py``).
    """

    def noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """Noise for ``shape`` = (steps, N) draws at once."""
        ...

    def sample_with(self, obs: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """a ~ pi(.|s) for observations [N, obs_dim] from one step of :meth:`noise`."""
        ...

    def sample(self, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw a ~ pi(.|s) for observations [N, obs_dim]."""
        ...

    def mode(self, obs: np.ndarray) -> np.ndarray:
        """The most likely action for observations [N, obs_dim]."""
        ...

    def env_action(self, actions: np.ndarray) -> np.ndarray:
        """Actions as the environment takes them."""
        ...


@runtime_checkable
class Recurrent(Protocol):
    """What an actor with a state adds: its state for N copies, and where to zero it."""

    recurrent: bool
    """Whether the actor carries a state between steps (False: ``begin`` and ``reset`` do
    nothing)."""

    def begin(self, n: int, state: torch.Tensor | None = None) -> torch.Tensor:
        """Act for ``n`` copies from ``state`` [n, S] (zeros when None); return the state."""
        ...

    def reset(self, first: np.ndarray) -> None:
        """Zero the state of the copies whose next observation starts an episode (bool [N])."""
        ...


def _view(tensor: torch.Tensor) -> np.ndarray:
    """A NumPy array sharing ``tensor``'s memory (updated in place by the optimiser)."""
    return tensor.detach().numpy()


class _Acting:
    """Sampling, mode and env actions from a forward pass and the policy's head."""

    recurrent = False

    def __init__(self, policy: MLPPolicy) -> None:
        self.head = policy.head
        self.state = torch.zeros(0, 0)

    def begin(self, n: int, state: torch.Tensor | None = None) -> torch.Tensor:
        """A feedforward actor has no state: an empty [n, 0]."""
        self.state = torch.zeros(n, 0)
        return self.state

    def reset(self, first: np.ndarray) -> None:
        """Nothing to zero for a feedforward actor."""

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        """The head's noise for ``shape`` = (steps, N) draws, drawn in one call."""
        return self.head.noise(rng, shape)

    def sample(self, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw a ~ pi(.|s) for observations [N, obs_dim] (Box actions unclipped)."""
        return self.sample_with(obs, self.noise(rng, (1, obs.shape[0]))[0])

    def sample_with(self, obs: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """a ~ pi(.|s) for obs [N, obs_dim] from one step of :meth:`noise`."""
        raise NotImplementedError

    def env_action(self, actions: np.ndarray) -> np.ndarray:
        """Actions as the environment takes them (Box actions clipped to the bounds)."""
        return self.head.to_env(actions)


class NumpyActor(_Acting):
    """``policy``'s network and head in NumPy, always with the policy's current weights.

    The observation statistics and the head's sampling constants (a Gaussian's standard
    deviation), which change only between rollouts (after an update), are read when the actor is
    made and at each :meth:`begin` (every sampler and evaluation makes or begins its actor at the
    start of its rollout), not at every step.

    Args:
        policy: the PyTorch policy (on the CPU). Its parameters must be updated in place, as every
            optimiser (:class:`pgrad.algos.adam.Adam`, ``torch.optim``) and ``load_state_dict`` do.
    """

    def __init__(self, policy: MLPPolicy) -> None:
        super().__init__(policy)
        layers = [m for m in policy.net if isinstance(m, torch.nn.Linear)]
        # Weight of nn.Linear is [out, in]; x @ W.T is a view, no copy.
        *self._hidden, self._out = [(_view(m.weight).T, _view(m.bias)) for m in layers]
        self._relu = policy.spec.activation == "relu"
        self._normalize = policy.spec.normalize_observations
        self._policy = policy
        self._read_statistics()

    def _read_statistics(self) -> None:
        """The standardisation's shift and scale in float32, as the PyTorch policy applies it,
        and the head's sampler with its current parameters."""
        self._sample = self.head.numpy_sampler()
        if self._normalize:
            self._shift, self._scale = self._policy.standardization_np()

    def begin(self, n: int, state: torch.Tensor | None = None) -> torch.Tensor:
        """Start acting for ``n`` copies (no state: an empty [n, 0]) with the current statistics."""
        self._read_statistics()
        return super().begin(n, state)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """The head's inputs [N, num_outputs] (logits, Gaussian means), float32.

        Args:
            obs: observations [N, obs_dim] (any float dtype; cast to float32).
        """
        x = np.asarray(obs, dtype=np.float32)
        if self._normalize:
            x = standardized(x, self._shift, self._scale)
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

    def sample_with(self, obs: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """a ~ pi(.|s) for obs [N, obs_dim] from one step of :meth:`noise`."""
        return self._sample(self(obs), noise)

    def mode(self, obs: np.ndarray) -> np.ndarray:
        """The most likely action (argmax, Gaussian mean) for obs [N, obs_dim]."""
        return self.head.mode_np(self(obs))


class TorchActor(_Acting):
    """``policy`` acting through PyTorch, on the same protocol and noise as :class:`NumpyActor`.

    For heads without a NumPy form, image encoders and recurrent cores; slower per step for small
    MLPs, since every layer is a PyTorch dispatch. Observations keep their stored dtype (uint8
    images are scaled inside the encoder).
    """

    def __init__(self, policy: MLPPolicy) -> None:
        super().__init__(policy)
        self.policy = policy
        self.recurrent = policy.recurrent

    def begin(self, n: int, state: torch.Tensor | None = None) -> torch.Tensor:
        """Act for ``n`` copies from ``state`` [n, S] (zeros when None)."""
        self.state = self.policy.initial_state(n) if state is None else state.clone()
        return self.state

    def reset(self, first: np.ndarray) -> None:
        """Zero the state of the copies whose next observation starts an episode."""
        if self.recurrent and first.any():
            keep = torch.from_numpy(~first).unsqueeze(1)
            self.state = self.state * keep  # out of place: the state may be an inference tensor

    def _out(self, obs: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(obs))
        if x.dtype == torch.float64:
            x = x.float()
        if self.state.shape[0] != x.shape[0]:
            self.begin(x.shape[0])
        out, self.state = self.policy.step(x, self.state)
        return out

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """The head's inputs [N, num_outputs], float32 (advancing a recurrent state)."""
        with torch.inference_mode():
            return self._out(obs).numpy()

    def sample_with(self, obs: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """a ~ pi(.|s) for obs [N, obs_dim] from one step of :meth:`noise`."""
        with torch.inference_mode():
            return self.head.sample(self._out(obs), torch.from_numpy(noise)).numpy()

    def mode(self, obs: np.ndarray) -> np.ndarray:
        """The most likely action for obs [N, obs_dim]."""
        with torch.inference_mode():
            return self.head.mode(self._out(obs)).numpy()


def numpy_can_act(policy: MLPPolicy) -> bool:
    """Whether :class:`NumpyActor` can run ``policy``: NumPy head, no images, no recurrence."""
    return bool(policy.head.numpy_form and policy.encoder.numpy_form and not policy.recurrent)


def make_actor(policy: MLPPolicy, backend: str = "auto") -> NumpyActor | TorchActor:
    """The acting path for ``policy``: NumPy where :func:`numpy_can_act`, else PyTorch.

    Args:
        backend: ``auto``, ``numpy`` or ``torch``.

    Raises:
        ValueError: ``numpy`` for a policy the NumPy path cannot run.
    """
    if backend == "torch" or (backend == "auto" and not numpy_can_act(policy)):
        return TorchActor(policy)
    if not numpy_can_act(policy):
        raise ValueError("this policy has images, a recurrent core or a torch-only head: "
                         "it acts through torch")  # fmt: skip
    return NumpyActor(policy)
