"""Stochastic MLP policies, optionally with a state-value function and observation normalisation.

A policy maps observations [B, obs_dim] to an action distribution: categorical for Discrete
actions, diagonal Gaussian for Box actions (a learned, state-independent log standard deviation).
Entry points (all PyTorch, for the losses; rollouts act through :class:`pgrad.policies.actor.Actor`,
the same network in NumPy):

- :meth:`MLPPolicy.evaluate_actions` gives log pi(a|s) and the entropy with autograd;
- :meth:`MLPPolicy.evaluate` also gives V(s), with one pass over a shared trunk;
- :meth:`MLPPolicy.value` gives V(s) (``value="separate"``: its own MLP; ``"shared"``: a head on
  the policy's hidden layers).

A Gaussian action's unclipped sample is what the log-probability refers to; it is clipped to the
action bounds only when sent to the environment (:meth:`pgrad.policies.actor.Actor.env_action`).

Observation normalisation keeps a running mean and variance in buffers (saved with the weights);
they change only through :meth:`MLPPolicy.update_observation_stats`, which the trainer calls after
each update, so they are fixed within a rollout and frozen at evaluation.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from pgrad.envs.make import EnvInfo

_ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}
_HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)
OBS_CLIP = 10.0
"""Normalised observations are clipped to [-OBS_CLIP, OBS_CLIP]."""


@dataclass(frozen=True)
class PolicySpec:
    """Everything needed to rebuild a policy's architecture (weights live in safetensors).

    Attributes:
        env: the spaces.
        hidden_sizes: widths of the hidden layers (empty: a linear policy).
        activation: ``"tanh"`` or ``"relu"``.
        init_log_std: initial log standard deviation (Box actions).
        value: ``"none"``, ``"separate"`` (its own MLP of the same widths) or ``"shared"``.
        normalize_observations: keep running statistics and standardise observations.
    """

    env: EnvInfo
    hidden_sizes: tuple[int, ...]
    activation: str
    init_log_std: float = 0.0
    value: str = "none"
    normalize_observations: bool = False

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
            value=str(data.get("value", "none")),
            normalize_observations=bool(data.get("normalize_observations", False)),
        )


def _mlp(inputs: int, hidden: tuple[int, ...], activation: str) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    width = inputs
    for size in hidden:
        layers += [_orthogonal(nn.Linear(width, size), math.sqrt(2.0)), _ACTIVATIONS[activation]()]
        width = size
    return nn.Sequential(*layers), width


class MLPPolicy(nn.Module):
    """pi_theta(a|s) and, optionally, V(s), as MLPs over (optionally normalised) observations."""

    def __init__(self, spec: PolicySpec) -> None:
        super().__init__()
        if spec.value not in ("none", "separate", "shared"):
            raise ValueError(f"value must be none, separate or shared, got {spec.value!r}")
        self.spec = spec
        info = spec.env
        trunk, width = _mlp(info.obs_dim, spec.hidden_sizes, spec.activation)
        self.net = nn.Sequential(*trunk, _orthogonal(nn.Linear(width, info.act_dim), 0.01))
        self.discrete = info.discrete
        self.value_net: nn.Module | None = None
        if spec.value == "separate":
            value_trunk, value_width = _mlp(info.obs_dim, spec.hidden_sizes, spec.activation)
            self.value_net = nn.Sequential(
                *value_trunk, _orthogonal(nn.Linear(value_width, 1), 1.0)
            )
        elif spec.value == "shared":
            self.value_head = _orthogonal(nn.Linear(width, 1), 1.0)
        if not self.discrete:
            self.log_std = nn.Parameter(torch.full((info.act_dim,), float(spec.init_log_std)))
            low = torch.tensor(info.action_low, dtype=torch.float32)
            high = torch.tensor(info.action_high, dtype=torch.float32)
            self.register_buffer("action_low", low, persistent=False)
            self.register_buffer("action_high", high, persistent=False)
        if spec.normalize_observations:
            self.register_buffer("obs_mean", torch.zeros(info.obs_dim, dtype=torch.float64))
            self.register_buffer("obs_var", torch.ones(info.obs_dim, dtype=torch.float64))
            self.register_buffer("obs_count", torch.zeros((), dtype=torch.float64))

    # --- inputs --------------------------------------------------------------------------------
    def normalize(self, obs: Tensor) -> Tensor:
        """Flattened, standardised observations [B, obs_dim] (identity without normalisation)."""
        obs = obs.reshape(obs.shape[0], -1)
        if not self.spec.normalize_observations:
            return obs
        scale = torch.rsqrt(self.obs_var + 1e-8).to(obs.dtype)
        return ((obs - self.obs_mean.to(obs.dtype)) * scale).clamp(-OBS_CLIP, OBS_CLIP)

    @torch.no_grad()
    def update_observation_stats(self, obs: Tensor) -> None:
        """Fold a batch of raw observations [B, obs_dim] into the running mean and variance."""
        if not self.spec.normalize_observations or obs.shape[0] == 0:
            return
        x = obs.reshape(obs.shape[0], -1).double()
        n, mean, var = float(x.shape[0]), x.mean(0), x.var(0, unbiased=False)
        total = self.obs_count + n
        delta = mean - self.obs_mean
        self.obs_mean += delta * n / total
        self.obs_var.copy_(
            (self.obs_var * self.obs_count + var * n + delta**2 * self.obs_count * n / total)
            / total
        )
        self.obs_count.copy_(total)

    # --- policy --------------------------------------------------------------------------------
    def _policy_out(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(features of the last hidden layer, logits or means) for normalised x."""
        features = self.net[:-1](x)
        return features, self.net[-1](features)

    def forward(self, obs: Tensor) -> Tensor:
        """Logits [B, A] (Discrete) or Gaussian means [B, act_dim] (Box) for obs [B, obs_dim]."""
        return self._policy_out(self.normalize(obs))[1]

    def _log_prob_entropy(self, out: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        if self.discrete:
            logp_all = torch.log_softmax(out, -1)
            log_prob = logp_all.gather(1, actions.long().unsqueeze(1)).squeeze(1)
            return log_prob, -(logp_all.exp() * logp_all).sum(-1)
        z = (actions - out) * torch.exp(-self.log_std)
        log_prob = (-0.5 * z.square() - self.log_std - _HALF_LOG_TWO_PI).sum(-1)
        entropy = (0.5 + _HALF_LOG_TWO_PI + self.log_std).sum().expand(out.shape[0])
        return log_prob, entropy

    def evaluate_actions(self, obs: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        """log pi(a|s) and the entropy of pi(.|s), each [B], with autograd (one forward).

        Args:
            obs: float [B, obs_dim].
            actions: int64 [B] (Discrete) or float [B, act_dim] (Box, unclipped).
        """
        return self._log_prob_entropy(self(obs), actions)

    def evaluate(self, obs: Tensor, actions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(log pi(a|s), entropy, V(s)), each [B], with autograd and one pass over the trunk."""
        x = self.normalize(obs)
        features, out = self._policy_out(x)
        log_prob, entropy = self._log_prob_entropy(out, actions)
        return log_prob, entropy, self._value(x, features)

    def log_prob(self, obs: Tensor, actions: Tensor) -> Tensor:
        """log pi(a|s) [B], with autograd; see :meth:`evaluate_actions`."""
        return self.evaluate_actions(obs, actions)[0]

    # --- value ---------------------------------------------------------------------------------
    def _value(self, x: Tensor, features: Tensor | None = None) -> Tensor:
        if self.value_net is not None:
            return self.value_net(x).squeeze(-1)
        if self.spec.value == "shared":
            if features is None:
                features = self.net[:-1](x)
            return self.value_head(features).squeeze(-1)
        return torch.zeros(x.shape[0], dtype=x.dtype)

    def value(self, obs: Tensor) -> Tensor:
        """V(s) [B] for obs [B, obs_dim], with autograd (zeros without a value function)."""
        return self._value(self.normalize(obs))

    def value_parameters(self) -> list[nn.Parameter]:
        """Parameters only the value function uses (empty when it is shared or absent)."""
        return [] if self.value_net is None else list(self.value_net.parameters())

    def policy_parameters(self) -> list[nn.Parameter]:
        """Every other parameter (policy, log std, and a shared value head)."""
        value_ids = {id(p) for p in self.value_parameters()}
        return [p for p in self.parameters() if id(p) not in value_ids]


def build_policy(spec: PolicySpec, seed: int) -> MLPPolicy:
    """A freshly initialised policy; the same spec and seed give the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MLPPolicy(spec)


def _orthogonal(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer
