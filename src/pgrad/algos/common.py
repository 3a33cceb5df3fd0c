"""Parts the algorithms share: the optimiser, its schedule, one step, reward scaling, and the config
of the fixed-length-rollout family (A2C, PPO)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium.vector import VectorEnv
from torch import Tensor

from pgrad.algos.adam import Adam
from pgrad.config import (
    EnvConfig,
    PolicyConfig,
    TrainConfig,
    require,
    require_nonnegative,
    require_positive_int,
)
from pgrad.errors import NonFiniteError
from pgrad.estimators.psi import PsiRecipe, psi_weights
from pgrad.estimators.returns import returns_to_go
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.batch import Batch
from pgrad.rollout.fixed import FixedLengthSampler

MAX_ROLLOUT_STEPS = 10_000_000
"""Largest rollout (num_envs * num_steps) of the fixed-length algorithms."""


def require_discount(cfg: object) -> None:
    """Require ``cfg.gamma`` in (0, 1]."""
    gamma = cfg.gamma
    require(
        isinstance(gamma, int | float) and math.isfinite(gamma) and 0.0 < gamma <= 1.0,
        f"gamma must be in (0, 1] (got {gamma}); try --gamma 0.99",
    )


@dataclass(frozen=True)
class RolloutConfig(TrainConfig):
    """Fields of the actor-critic algorithms that learn from fixed-length rollouts."""

    num_steps: int = 128
    """Steps per copy in each fixed-length rollout (T)."""
    gamma: float = 0.99
    """Discount."""
    gae_lambda: float = 0.95
    """lambda of GAE (1.0: bootstrapped n-step returns, 0.0: one-step TD residuals)."""
    normalize_advantages: bool = False
    """Standardise the advantages (PPO: within each minibatch)."""
    normalize_rewards: bool = False
    """Divide rewards by a running standard deviation of the discounted return."""
    value_coef: float = 0.5
    """Weight of the value loss in the joint loss (matters for a shared network)."""
    entropy_coef: float = 0.0
    """Weight of the entropy bonus."""
    env: EnvConfig = EnvConfig(num_envs=8)
    policy: PolicyConfig = PolicyConfig(hidden_sizes=(64, 64))

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive_int(self, "num_steps", "e.g. --num-steps 128")
        require_discount(self)
        for name in ("value_coef", "entropy_coef"):
            require_nonnegative(self, name)
        self.recipe  # noqa: B018  (checks gae_lambda)
        steps = self.env.num_envs * self.num_steps
        require(steps <= MAX_ROLLOUT_STEPS, f"num_envs * num_steps must be at most "
                f"{MAX_ROLLOUT_STEPS:,} (got {steps:,}), the largest rollout pgrad holds")

    @property
    def needs_value(self) -> bool:
        """Actor-critic: always a value function."""
        return True

    @property
    def recipe(self) -> PsiRecipe:
        """GAE(gamma, lambda) with the learned V (standardisation is the algorithm's own)."""
        return PsiRecipe("gae", "value", self.gae_lambda, standardize=False)


def fixed_length_sampler(cfg: RolloutConfig, envs: VectorEnv, seed: int) -> FixedLengthSampler:
    """The sampler of A2C and PPO: ``num_steps`` steps of every copy, with log pi_old."""
    return FixedLengthSampler(envs, cfg.num_steps, seed=seed, log_probs=True)


def make_optimizer(policy: MLPPolicy, cfg: TrainConfig) -> Adam:
    """Adam (eps 1e-5) with two parameter groups: the policy (``lr``) and a separate value net."""
    lr, value_lr = cfg.optim.lr, cfg.optim.value_lr
    groups: list[dict[str, Any]] = [{"params": policy.policy_parameters(), "lr": lr, "base_lr": lr}]
    if policy.value_parameters():
        groups.append({"params": policy.value_parameters(), "lr": value_lr, "base_lr": value_lr})
    return Adam(groups, eps=1e-5)


def set_learning_rate(optimizer: Adam, cfg: TrainConfig, progress: float) -> float:
    """Apply the schedule at ``progress`` in [0, 1] of the budget; return the policy's rate."""
    factor = 1.0 - progress if cfg.optim.lr_schedule == "linear" else 1.0
    for group in optimizer.param_groups:
        group["lr"] = group["base_lr"] * max(factor, 0.0)
    return float(optimizer.param_groups[0]["lr"])


def step(optimizer: Adam, loss: Tensor, policy: MLPPolicy, max_grad_norm: float) -> float:
    """Backpropagate ``loss``, clip the global gradient norm (if > 0), step; return the norm.

    Raises:
        NonFiniteError: the loss or the gradient is NaN or infinite (nothing is stepped).
    """
    if not torch.isfinite(loss):
        raise NonFiniteError(f"the loss is {float(loss.detach())}")
    optimizer.zero_grad()
    loss.backward()
    return clip_and_step(optimizer, max_grad_norm)


def clip_and_step(optimizer: Adam, max_grad_norm: float) -> float:
    """Clip the global norm of the gradients in ``.grad`` (if ``max_grad_norm`` > 0), take the
    optimiser's step, and return the norm before clipping.

    As ``torch.nn.utils.clip_grad_norm_``: the gradients are scaled by
    min(1, max_grad_norm / (norm + 1e-6)); when they are views of one buffer
    (:mod:`pgrad.policies.flat`) that is one operation on the buffer.

    Raises:
        NonFiniteError: the gradient's norm is NaN or infinite (nothing is stepped).
    """
    span = optimizer.gradient_span()
    if span is not None:
        flat = span.numpy()
        norm = float(np.sqrt(np.dot(flat, flat)))
        if max_grad_norm > 0 and norm > max_grad_norm - 1e-6:
            flat *= np.float32(min(max_grad_norm / (norm + 1e-6), 1.0))
        if not math.isfinite(norm):
            optimizer.zero_grad()
            raise NonFiniteError(f"the gradient's norm is {norm}")
        optimizer.step()
        return norm
    params = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
    if max_grad_norm > 0:
        norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
    else:
        norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params]))
    if not torch.isfinite(norm):
        optimizer.zero_grad()
        raise NonFiniteError(f"the gradient's norm is {float(norm)}")
    optimizer.step()
    return float(norm)


class RewardScaler:
    """Divides rewards by a running standard deviation of the discounted return-to-go."""

    def __init__(self) -> None:
        self.count, self.mean, self.var = 0.0, 0.0, 1.0

    def scale(self, batch: Batch, gamma: float) -> Batch:
        """Fold the batch's returns into the statistics; return the batch with scaled rewards."""
        g = returns_to_go(batch.rewards, batch.mask, gamma=gamma)[batch.mask.bool()].double()
        if g.numel():
            n, mean, var = float(g.numel()), float(g.mean()), float(g.var(unbiased=False))
            total = self.count + n
            delta = mean - self.mean
            self.var = (self.var * self.count + var * n + delta**2 * self.count * n / total) / total
            self.mean += delta * n / total
            self.count = total
        std = max(self.var, 1e-8) ** 0.5
        return dataclasses.replace(batch, rewards=batch.rewards / std)

    def state_dict(self) -> dict[str, float]:
        """The running statistics."""
        return {"count": self.count, "mean": self.mean, "var": self.var}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Restore :meth:`state_dict`."""
        self.count, self.mean, self.var = state["count"], state["mean"], state["var"]


def estimate(batch: Batch, cfg: Any) -> Batch:
    """The batch with Psi_t and value targets of ``cfg.recipe`` attached (one recipe for all)."""
    psi, targets = psi_weights(batch.rewards, batch.mask, batch.terminated, batch.truncated,
                               batch.values, batch.next_values, recipe=cfg.recipe,
                               gamma=cfg.gamma)  # fmt: skip
    return batch.with_estimates(psi, targets)
