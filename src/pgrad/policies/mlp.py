"""Stochastic MLP policies, optionally with a state-value function and observation normalisation.

A policy maps observations [B, obs_dim] to the outputs of an action head
(:mod:`pgrad.policies.heads`, chosen from the action space by ``make_head``): logits of a
categorical for Discrete actions, means of a diagonal Gaussian for Box actions. Entry points (all
PyTorch, for the losses; rollouts act through :func:`pgrad.policies.actor.make_actor`, the same
network in NumPy where the head has a NumPy form):

- :meth:`MLPPolicy.evaluate_actions` gives log pi(a|s) and the entropy with autograd;
- :meth:`MLPPolicy.evaluate` also gives V(s), with one pass over a shared trunk;
- :meth:`MLPPolicy.value` gives V(s) (``value="separate"``: its own MLP; ``"shared"``: a head on
  the policy's hidden layers).

A Gaussian action's unclipped sample is what the log-probability refers to; it is clipped to the
action bounds only when sent to the environment (the head's ``to_env``).

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
from pgrad.envs.spaces import space_from_json, space_to_json
from pgrad.errors import PgradError
from pgrad.policies.heads import ActionHead, make_head

_ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}
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
        out = asdict(self)
        out["env"] = {
            "env_id": self.env.env_id,
            "obs_dim": self.env.obs_dim,
            "action_space": space_to_json(self.env.action_space),
            "reward_threshold": self.env.reward_threshold,
        }
        return out

    @classmethod
    def from_json(cls, data: dict[str, object]) -> PolicySpec:
        """Inverse of :meth:`to_json`."""
        env = dict(data["env"])  # type: ignore[call-overload]
        if not isinstance(env.get("obs_dim"), int) or not isinstance(env.get("env_id"), str):
            raise PgradError("policy metadata needs an integer obs_dim and a string env_id")
        env["action_space"] = space_from_json(env.get("action_space"))
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
        head = make_head(info.action_space, spec.init_log_std)
        trunk, width = _mlp(info.obs_dim, spec.hidden_sizes, spec.activation)
        self.net = nn.Sequential(*trunk, _orthogonal(nn.Linear(width, head.num_outputs), 0.01))
        self.value_net: nn.Module | None = None
        if spec.value == "separate":
            value_trunk, value_width = _mlp(info.obs_dim, spec.hidden_sizes, spec.activation)
            self.value_net = nn.Sequential(
                *value_trunk, _orthogonal(nn.Linear(value_width, 1), 1.0)
            )
        elif spec.value == "shared":
            self.value_head = _orthogonal(nn.Linear(width, 1), 1.0)
        self.head: ActionHead = head  # type: ignore[assignment]
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
        """The head's inputs [B, num_outputs] (logits, Gaussian means) for obs [B, obs_dim]."""
        return self._policy_out(self.normalize(obs))[1]

    def _log_prob_entropy(self, out: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        return self.head.log_prob_entropy(out, actions)

    def evaluate_actions(self, obs: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        """log pi(a|s) and the entropy of pi(.|s), each [B], with autograd (one forward).

        Args:
            obs: float [B, obs_dim].
            actions: [B, *head.action_shape] (int64 [B] for Discrete, float [B, act_dim] for Box).
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

    @property
    def has_value(self) -> bool:
        """Whether the policy has a value function."""
        return self.spec.value != "none"

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
