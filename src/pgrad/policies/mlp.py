"""Stochastic MLP policies: categorical for Discrete actions, diagonal Gaussian for Box actions.

A policy maps observations [B, obs_dim] to an action distribution. Two entry points:

- :meth:`MLPPolicy.sample` draws actions for the rollout (no autograd, a dedicated generator);
- :meth:`MLPPolicy.log_prob` evaluates log pi(a|s) with autograd for the estimator's loss.

The Gaussian policy's log standard deviation is a learned parameter independent of the state.
Its sampled action is what the log-probability refers to; it is clipped to the action bounds only
when sent to the environment (see :func:`MLPPolicy.env_action`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor, nn

from pgrad.envs.make import EnvInfo

_ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}
_HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)


@dataclass(frozen=True)
class PolicySpec:
    """Everything needed to rebuild a policy's architecture (weights live in safetensors)."""

    env: EnvInfo
    hidden_sizes: tuple[int, ...]
    activation: str
    init_log_std: float = 0.0

    def to_json(self) -> dict[str, object]:
        """JSON-ready form, stored beside the weights."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> PolicySpec:
        """Inverse of :meth:`to_json`."""
        env = dict(data["env"])  # type: ignore[call-overload]
        for key in ("action_low", "action_high"):
            if env.get(key) is not None:
                env[key] = tuple(env[key])
        return cls(
            env=EnvInfo(**env),
            hidden_sizes=tuple(data["hidden_sizes"]),  # type: ignore[arg-type]
            activation=str(data["activation"]),
            init_log_std=float(data.get("init_log_std", 0.0)),  # type: ignore[arg-type]
        )


class MLPPolicy(nn.Module):
    """pi_theta(a|s): an MLP from observations to logits (Discrete) or Gaussian means (Box)."""

    def __init__(self, spec: PolicySpec) -> None:
        super().__init__()
        self.spec = spec
        info = spec.env
        layers: list[nn.Module] = []
        width = info.obs_dim
        for hidden in spec.hidden_sizes:
            layers += [_orthogonal(nn.Linear(width, hidden), math.sqrt(2.0))]
            layers += [_ACTIVATIONS[spec.activation]()]
            width = hidden
        layers.append(_orthogonal(nn.Linear(width, info.act_dim), 0.01))
        self.net = nn.Sequential(*layers)
        self.discrete = info.discrete
        if not self.discrete:
            self.log_std = nn.Parameter(torch.full((info.act_dim,), float(spec.init_log_std)))
            low = torch.tensor(info.action_low, dtype=torch.float32)
            high = torch.tensor(info.action_high, dtype=torch.float32)
            self.register_buffer("action_low", low, persistent=False)
            self.register_buffer("action_high", high, persistent=False)

    def forward(self, obs: Tensor) -> Tensor:
        """Logits [B, A] (Discrete) or Gaussian means [B, act_dim] (Box) for obs [B, obs_dim]."""
        return self.net(obs.reshape(obs.shape[0], -1))

    def sample(self, obs: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Draw a ~ pi(.|s) for obs [B, obs_dim]: int64 [B] or float [B, act_dim]. No autograd."""
        with torch.inference_mode():
            out = self(obs)
            if self.discrete:
                return torch.multinomial(out.softmax(-1), 1, generator=generator).squeeze(1)
            noise = torch.randn(out.shape, generator=generator, dtype=out.dtype)
            return out + noise * self.log_std.exp()

    def mode(self, obs: Tensor) -> Tensor:
        """The most likely action (argmax or Gaussian mean) for obs [B, obs_dim]. No autograd."""
        with torch.inference_mode():
            out = self(obs)
            return out.argmax(-1) if self.discrete else out

    def evaluate_actions(self, obs: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        """log pi(a|s) and the entropy of pi(.|s), each [B], with autograd (one forward).

        Args:
            obs: float [B, obs_dim].
            actions: int64 [B] (Discrete) or float [B, act_dim] (Box, unclipped).
        """
        out = self(obs)
        if self.discrete:
            logp_all = torch.log_softmax(out, -1)
            log_prob = logp_all.gather(1, actions.long().unsqueeze(1)).squeeze(1)
            return log_prob, -(logp_all.exp() * logp_all).sum(-1)
        z = (actions - out) * torch.exp(-self.log_std)
        log_prob = (-0.5 * z.square() - self.log_std - _HALF_LOG_TWO_PI).sum(-1)
        entropy = (0.5 + _HALF_LOG_TWO_PI + self.log_std).sum().expand(out.shape[0])
        return log_prob, entropy

    def log_prob(self, obs: Tensor, actions: Tensor) -> Tensor:
        """log pi(a|s) [B], with autograd; see :meth:`evaluate_actions`."""
        return self.evaluate_actions(obs, actions)[0]

    def env_action(self, actions: Tensor) -> np.ndarray:
        """Actions as the environment takes them: Box actions clipped to the bounds."""
        if self.discrete:
            return actions.numpy()
        return torch.clamp(actions, self.action_low, self.action_high).numpy()


def build_policy(spec: PolicySpec, seed: int) -> MLPPolicy:
    """A freshly initialised policy; the same spec and seed give the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MLPPolicy(spec)


def _orthogonal(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer
