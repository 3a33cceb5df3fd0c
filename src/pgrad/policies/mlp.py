"""Stochastic policies: encoder, optional recurrent core, MLP, action head; optionally V(s).

A policy maps stored observations [B, obs_dim] (:mod:`pgrad.envs.observations`) through an
encoder (:mod:`pgrad.policies.encoders`: vectors as they are, images through a CNN), an optional
LSTM or GRU (:mod:`pgrad.policies.recurrent`), and an MLP to the outputs of an action head
(:mod:`pgrad.policies.heads`, chosen from the action space by ``make_head``). Entry points (all
PyTorch, for the losses; rollouts act through :func:`pgrad.policies.actor.make_actor`, the same
network in NumPy where the encoder and head have a NumPy form and there is no recurrent core):

- :meth:`MLPPolicy.evaluate_steps` gives (log pi(a|s), entropy, V(s)) for a batch's steps,
  shaped like its mask, for feedforward and recurrent policies alike (the losses use it);
- :meth:`MLPPolicy.step` gives the head's inputs and the next recurrent state (acting);

and, for feedforward policies only:

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

import numpy as np
import torch
from torch import Tensor, nn

from pgrad.envs.make import EnvInfo
from pgrad.envs.observations import observation_layout
from pgrad.envs.spaces import space_from_json, space_to_json
from pgrad.errors import PgradError
from pgrad.policies.encoders import ObservationEncoder
from pgrad.policies.flat import flatten_parameters
from pgrad.policies.heads import ActionHead, make_head
from pgrad.policies.recurrent import RecurrentCore

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
        normalize_observations: keep running statistics and standardise vector observations.
        action_dist: the head's name in :data:`pgrad.policies.heads.HEADS`, or ``"auto"``.
        recurrent: ``"none"``, ``"lstm"`` or ``"gru"``.
        recurrent_size: units of the recurrent core.
    """

    env: EnvInfo
    hidden_sizes: tuple[int, ...]
    activation: str
    init_log_std: float = 0.0
    value: str = "none"
    normalize_observations: bool = False
    action_dist: str = "auto"
    recurrent: str = "none"
    recurrent_size: int = 128

    def to_json(self) -> dict[str, object]:
        """JSON-ready form, stored beside the weights."""
        out = asdict(self)
        out["env"] = {
            "env_id": self.env.env_id,
            "obs_dim": self.env.obs_dim,
            "action_space": space_to_json(self.env.action_space),
            "reward_threshold": self.env.reward_threshold,
            "observation_space": None if self.env.observation_space is None
            else space_to_json(self.env.observation_space),
        }
        return out

    @classmethod
    def from_json(cls, data: dict[str, object]) -> PolicySpec:
        """Inverse of :meth:`to_json` (a checkpoint without an observation space has a flat
        float32 Box of ``obs_dim``)."""
        env = dict(data["env"])  # type: ignore[call-overload]
        if not isinstance(env.get("obs_dim"), int) or not isinstance(env.get("env_id"), str):
            raise PgradError("policy metadata needs an integer obs_dim and a string env_id")
        env["action_space"] = space_from_json(env.get("action_space"))
        if env.get("observation_space") is not None:
            env["observation_space"] = space_from_json(env["observation_space"])
        return cls(
            env=EnvInfo(**env),
            hidden_sizes=tuple(data["hidden_sizes"]),  # type: ignore[arg-type]
            activation=str(data["activation"]),
            init_log_std=float(data.get("init_log_std", 0.0)),  # type: ignore[arg-type]
            value=str(data.get("value", "none")),
            normalize_observations=bool(data.get("normalize_observations", False)),
            action_dist=str(data.get("action_dist", "auto")),
            recurrent=str(data.get("recurrent", "none")),
            recurrent_size=int(data.get("recurrent_size", 128)),  # type: ignore[call-overload]
        )


def _mlp(inputs: int, hidden: tuple[int, ...], activation: str) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    width = inputs
    for size in hidden:
        layers += [_orthogonal(nn.Linear(width, size), math.sqrt(2.0)), _ACTIVATIONS[activation]()]
        width = size
    return nn.Sequential(*layers), width


def standardized(x: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(x - shift) * scale clipped to [-OBS_CLIP, OBS_CLIP]: :meth:`MLPPolicy.normalize` in
    NumPy, as a new array (x is left as it is)."""
    x = (x - shift) * scale
    return np.minimum(np.maximum(x, -OBS_CLIP, out=x), OBS_CLIP, out=x)


class MLPPolicy(nn.Module):
    """pi_theta(a|s) and, optionally, V(s): encoder, optional recurrent core, MLPs, a head."""

    def __init__(self, spec: PolicySpec) -> None:
        super().__init__()
        if spec.value not in ("none", "separate", "shared"):
            raise ValueError(f"value must be none, separate or shared, got {spec.value!r}")
        self.spec = spec
        info = spec.env
        head = make_head(info.action_space, spec.action_dist, spec.init_log_std)
        layout = observation_layout(info.obs_space)
        if layout.dim != info.obs_dim:
            raise PgradError(f"obs_dim {info.obs_dim} does not match the observation space "
                             f"{info.obs_space} ({layout.dim} columns)")  # fmt: skip
        self.encoder = ObservationEncoder(layout)
        width = self.encoder.out_dim
        self.core: RecurrentCore | None = None
        if spec.recurrent != "none":
            self.core = RecurrentCore(spec.recurrent, width, spec.recurrent_size)
            width = spec.recurrent_size
        trunk, out_width = _mlp(width, spec.hidden_sizes, spec.activation)
        self.net = nn.Sequential(*trunk, _orthogonal(nn.Linear(out_width, head.num_outputs), 0.01))
        self.value_net: nn.Module | None = None
        if spec.value == "separate":
            value_trunk, value_width = _mlp(width, spec.hidden_sizes, spec.activation)
            self.value_net = nn.Sequential(
                *value_trunk, _orthogonal(nn.Linear(value_width, 1), 1.0)
            )
        elif spec.value == "shared":
            self.value_head = _orthogonal(nn.Linear(out_width, 1), 1.0)
        self.head: ActionHead = head  # type: ignore[assignment]
        if spec.normalize_observations:
            size = self.encoder.vector_dim
            self.register_buffer("obs_mean", torch.zeros(size, dtype=torch.float64))
            self.register_buffer("obs_var", torch.ones(size, dtype=torch.float64))
            self.register_buffer("obs_count", torch.zeros((), dtype=torch.float64))

    # --- inputs --------------------------------------------------------------------------------
    def normalize(self, obs: Tensor) -> Tensor:
        """Encoded observations [B, F]: vector columns standardised (with normalisation) beside
        the images' CNN features; for stored observations [B, obs_dim] (or [B, ...])."""
        obs = obs.reshape(obs.shape[0], -1)
        vectors = self.encoder.vectors(obs)
        if self.spec.normalize_observations:
            scale = torch.rsqrt(self.obs_var + 1e-8).to(vectors.dtype)
            vectors = ((vectors - self.obs_mean.to(vectors.dtype)) * scale).clamp(
                -OBS_CLIP, OBS_CLIP
            )
        return self.encoder(obs, vectors)

    def standardization_np(self) -> tuple[np.ndarray, np.ndarray]:
        """(shift, scale) float32 of :meth:`normalize`'s standardisation, for the NumPy paths
        (:func:`standardized`); read again after the statistics change."""
        mean, var = self.obs_mean.numpy(), self.obs_var.numpy()
        return mean.astype(np.float32), (1.0 / np.sqrt(var + 1e-8)).astype(np.float32)

    @torch.no_grad()
    def update_observation_stats(self, obs: Tensor) -> None:
        """Fold a batch of raw observations [B, obs_dim] into the running mean and variance of
        their vector columns."""
        if not self.spec.normalize_observations or obs.shape[0] == 0:
            return
        x = self.encoder.vectors(obs.reshape(obs.shape[0], -1)).double()
        total = self.obs_count + float(x.shape[0])
        if x.shape[1] == 0:  # images only: no vector column to standardise
            self.obs_count.copy_(total)
            return
        n, mean, var = float(x.shape[0]), x.mean(0), x.var(0, unbiased=False)
        delta = mean - self.obs_mean
        self.obs_mean += delta * n / total
        self.obs_var.copy_(
            (self.obs_var * self.obs_count + var * n + delta**2 * self.obs_count * n / total)
            / total
        )
        self.obs_count.copy_(total)

    # --- recurrence ----------------------------------------------------------------------------
    @property
    def recurrent(self) -> bool:
        """Whether the policy has a recurrent core (and so a state carried between steps)."""
        return self.core is not None

    @property
    def state_size(self) -> int:
        """S, floats of recurrent state per environment copy (0 for a feedforward policy)."""
        return 0 if self.core is None else self.core.state_size

    def initial_state(self, n: int) -> Tensor:
        """The state [n, S] at the start of an episode (zeros)."""
        return torch.zeros(n, self.state_size)

    def step(self, obs: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        """(head inputs [N, num_outputs], next state [N, S]) for one step of obs [N, obs_dim]."""
        x = self.normalize(obs)
        if self.core is not None:
            x, state = self.core.step(x, state)
        return self._policy_out(x)[1], state

    # --- policy --------------------------------------------------------------------------------
    def _policy_out(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(features of the last hidden layer, logits or means) for encoded x."""
        features = self.net[:-1](x)
        return features, self.net[-1](features)

    def _feedforward_only(self) -> None:
        if self.core is not None:
            raise TypeError("a recurrent policy needs whole rows of steps: use evaluate_steps")

    def forward(self, obs: Tensor) -> Tensor:
        """The head's inputs [B, num_outputs] (logits, Gaussian means) for obs [B, obs_dim]."""
        self._feedforward_only()
        return self._policy_out(self.normalize(obs))[1]

    def evaluate_actions(self, obs: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        """log pi(a|s) and the entropy of pi(.|s), each [B], with autograd (one forward).

        Args:
            obs: stored observations [B, obs_dim].
            actions: [B, *head.action_shape] (int64 [B] for Discrete, float [B, act_dim] for Box).
        """
        return self.head.log_prob_entropy(self(obs), actions)

    def evaluate(self, obs: Tensor, actions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(log pi(a|s), entropy, V(s)), each [B], with autograd and one pass over the trunk."""
        self._feedforward_only()
        return self._outputs(self.normalize(obs), actions)

    def _outputs(self, x: Tensor, actions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        features, out = self._policy_out(x)
        log_prob, entropy = self.head.log_prob_entropy(out, actions)
        return log_prob, entropy, self._value(x, features)

    def log_prob(self, obs: Tensor, actions: Tensor) -> Tensor:
        """log pi(a|s) [B], with autograd; see :meth:`evaluate_actions`."""
        return self.evaluate_actions(obs, actions)[0]

    def _rows(
        self, obs: Tensor, mask: Tensor, starts: Tensor | None, state: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        """The core over rows of obs [B, T, ...]: outputs [B, T, H] and states after [B, T, S]."""
        if self.core is None or mask.dim() != 2 or starts is None or state is None:
            raise ValueError("a recurrent policy evaluates rows [B, T] with starts and a state")
        b, t = mask.shape
        x = self.normalize(obs.reshape(b * t, *obs.shape[2:])).reshape(b, t, -1)
        return self.core.sequence(x, starts, state)

    def evaluate_steps(
        self, obs: Tensor, actions: Tensor, mask: Tensor, starts: Tensor | None = None,
        state: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:  # fmt: skip
        """(log pi(a|s), entropy, V(s)) shaped like ``mask``, zero where it is 0.

        Args:
            obs, actions: [*mask.shape, ...], the steps (a flat minibatch [B] or rows [B, T]).
            mask: float [B] or [B, T], 1.0 on real steps (only those are computed when the
                policy is feedforward).
            starts: bool [B, T], episode starts (recurrent policies, which need rows).
            state: [B, S], each row's state before its step 0 (recurrent policies).
        """
        if self.core is None:
            valid = mask.bool()
            flat = self._outputs(self.normalize(obs[valid]), actions[valid])
            return tuple(torch.zeros_like(mask).masked_scatter(valid, v) for v in flat)  # type: ignore[return-value]
        b, t = mask.shape
        h, _ = self._rows(obs, mask, starts, state)
        flat = self._outputs(h.reshape(b * t, -1), actions.reshape(b * t, *actions.shape[2:]))
        return tuple(v.reshape(b, t) * mask for v in flat)  # type: ignore[return-value]

    def distribution_steps(
        self, obs: Tensor, mask: Tensor, starts: Tensor | None = None, state: Tensor | None = None
    ) -> Tensor:
        """pi(.|s) of the real steps as :meth:`head.distribution` gives it, [n, ...] in the
        order of ``mask.nonzero()``, with autograd (arguments as :meth:`evaluate_steps`)."""
        valid = mask.bool()
        if self.core is None:
            x = self.normalize(obs[valid])
        else:
            x = self._rows(obs, mask, starts, state)[0][valid]
        return self.head.distribution(self._policy_out(x)[1])  # type: ignore[no-any-return]

    def value_steps(
        self, obs: Tensor, mask: Tensor, starts: Tensor | None = None, state: Tensor | None = None
    ) -> Tensor:
        """V(s) shaped like ``mask`` with autograd, zero where it is 0 (arguments as
        :meth:`evaluate_steps`; the policy head is not computed)."""
        if self.core is None:
            valid = mask.bool()
            return torch.zeros_like(mask).masked_scatter(valid, self.value(obs[valid]))
        b, t = mask.shape
        h, _ = self._rows(obs, mask, starts, state)
        return self._value(h.reshape(b * t, -1)).reshape(b, t) * mask

    def rollout_outputs(
        self, obs: Tensor, actions: Tensor, next_obs: Tensor, mask: Tensor, starts: Tensor,
        state: Tensor, log_probs: bool = True,
    ) -> tuple[Tensor, Tensor, Tensor]:  # fmt: skip
        """(log pi(a|s), V(s_t), V(s_{t+1})) [B, T] of a rollout's rows, without autograd (zeros
        for log pi unless ``log_probs``, and for V without a value function).

        V(s_{t+1}) is V of ``next_obs[b, t]`` after step t: for a recurrent policy, one more
        step of the core from the state after step t (the successor continues the episode).
        """
        with torch.no_grad():
            if self.core is None:
                valid = mask.bool()
                log_prob, values, next_values = (torch.zeros_like(mask) for _ in range(3))
                if log_probs:
                    log_prob[valid] = self.evaluate_actions(obs[valid], actions[valid])[0]
                if self.has_value:
                    values[valid] = self.value(obs[valid])
                    next_values[valid] = self.value(next_obs[valid])
                return log_prob, values, next_values
            b, t = mask.shape
            h, after = self._rows(obs, mask, starts, state)
            flat_actions = actions.reshape(b * t, *actions.shape[2:])
            log_prob, _, values = self._outputs(h.reshape(b * t, -1), flat_actions)
            nxt = self.normalize(next_obs.reshape(b * t, *next_obs.shape[2:]))
            h_next, _ = self.core.step(nxt, after.reshape(b * t, -1))
            next_values = self._value(h_next)
            return tuple(v.reshape(b, t) * mask for v in (log_prob, values, next_values))  # type: ignore[return-value]

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
        self._feedforward_only()
        return self._value(self.normalize(obs))

    @property
    def has_value(self) -> bool:
        """Whether the policy has a value function."""
        return self.spec.value != "none"

    def value_parameters(self) -> list[nn.Parameter]:
        """Parameters only the value function uses (empty when it is shared or absent)."""
        return [] if self.value_net is None else list(self.value_net.parameters())

    def policy_parameters(self) -> list[nn.Parameter]:
        """Every other parameter (encoder, core, policy, log std, and a shared value head)."""
        value_ids = {id(p) for p in self.value_parameters()}
        return [p for p in self.parameters() if id(p) not in value_ids]


def build_policy(spec: PolicySpec, seed: int) -> MLPPolicy:
    """A freshly initialised policy; the same spec and seed give the same weights.

    Its parameters are views of one buffer, and their gradients of another
    (:mod:`pgrad.policies.flat`), in the order of the optimiser's groups."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        policy = MLPPolicy(spec)
    flatten_parameters(policy, [*policy.policy_parameters(), *policy.value_parameters()])
    return policy


def _orthogonal(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer
