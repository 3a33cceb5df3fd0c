"""PPO: the clipped surrogate, several epochs of minibatches per rollout (Schulman et al., 2017).

Psi_t = GAE(gamma, lambda) advantages, computed once per rollout; each minibatch step minimises
the clipped-ratio surrogate (:func:`pgrad.losses.clipped_surrogate_loss`) plus the value loss
(optionally clipped) minus the entropy bonus. Epochs stop early when the approximate KL between
the rollout's policy and the current one passes ``target_kl`` (if set).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from pgrad.algos.adam import Adam
from pgrad.algos.common import RolloutConfig, estimate, step
from pgrad.algos.common import fixed_length_sampler as make_sampler
from pgrad.config import EvalConfig, OptimConfig, require, require_nonnegative, require_positive_int
from pgrad.estimators.advantages import standardize
from pgrad.losses.policy import clipped_surrogate_loss
from pgrad.losses.value import value_loss
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.batch import Batch
from pgrad.types import Metrics

__all__ = ["Config", "PPOConfig", "make_sampler", "update"]


@dataclass(frozen=True)
class PPOConfig(RolloutConfig):
    """Train PPO: the clipped surrogate on fixed-length rollouts, update_epochs passes of
    num_minibatches minibatches each, GAE advantages standardised per minibatch, a learning rate
    decaying linearly to 0 over the budget."""

    algo: ClassVar[str] = "ppo"

    normalize_advantages: bool = True
    entropy_coef: float = 0.01
    update_epochs: int = 4
    """Passes over each rollout."""
    num_minibatches: int = 4
    """Minibatches per pass; must divide num_envs * num_steps."""
    clip_coef: float = 0.2
    """epsilon of the clipped ratio."""
    value_clip: float = 0.0
    """Clip V to within this of its rollout value in the value loss (0: no clipping)."""
    target_kl: float = 0.0
    """Stop an update's epochs early once the approximate KL exceeds this (0: never)."""
    optim: OptimConfig = OptimConfig(lr=2.5e-4, value_lr=2.5e-4, lr_schedule="linear",
                                     max_grad_norm=0.5)  # fmt: skip
    eval: EvalConfig = EvalConfig(eval_interval=10)  # an update is 1024 steps: about every 10k

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive_int(self, "update_epochs", "e.g. --update-epochs 4")
        require_positive_int(self, "num_minibatches", "e.g. --num-minibatches 4")
        require(
            isinstance(self.clip_coef, int | float) and 0 < self.clip_coef < math.inf,
            f"clip_coef must be positive (got {self.clip_coef})",
        )
        for name in ("value_clip", "target_kl"):
            require_nonnegative(self, name)
        batch = self.env.num_envs * self.num_steps
        require(
            batch % self.num_minibatches == 0,
            f"num_minibatches ({self.num_minibatches}) must divide num_envs * num_steps ({batch})",
        )
        require(
            self.policy.recurrent == "none" or self.env.num_envs % self.num_minibatches == 0,
            f"a recurrent policy's minibatches are whole rows: num_minibatches "
            f"({self.num_minibatches}) must divide num_envs ({self.env.num_envs})",
        )


Config = PPOConfig


def update(
    policy: MLPPolicy, optimizer: Adam, batch: Batch, cfg: PPOConfig, generator: torch.Generator
) -> Metrics:
    """``update_epochs`` passes of ``num_minibatches`` minibatch steps over the rollout."""
    batch = estimate(batch, cfg)
    stats: dict[str, list[float]] = {k: [] for k in ("pg", "vf", "ent", "kl", "clip", "norm")}
    epochs = 0
    for _ in range(cfg.update_epochs):
        epochs += 1
        for mb in batch.minibatches(cfg.num_minibatches, generator):
            for key, value in minibatch_step(policy, optimizer, mb, cfg).items():
                stats[key].append(value)
        if cfg.target_kl > 0 and stats["kl"][-1] > cfg.target_kl:
            break

    def mean(key: str) -> float:
        return sum(stats[key]) / len(stats[key])

    return {
        "loss/policy": mean("pg"), "loss/value": mean("vf"), "policy/entropy": mean("ent"),
        "policy/approx_kl": mean("kl"), "policy/clipfrac": mean("clip"),
        "opt/grad_norm": mean("norm"), "opt/epochs": float(epochs),
    }  # fmt: skip


def minibatch_step(
    policy: MLPPolicy, optimizer: Adam, mb: Batch, cfg: PPOConfig
) -> dict[str, float]:
    """One optimiser step on a minibatch's clipped surrogate, value loss and entropy bonus (a
    flat minibatch [B], or whole rows [B, T] for a recurrent policy)."""
    assert mb.advantages is not None and mb.targets is not None and mb.log_probs is not None
    mask = mb.mask
    log_probs, entropy, values = policy.evaluate_steps(
        mb.obs, mb.actions, mask, mb.starts, mb.initial_state
    )
    adv = standardize(mb.advantages, mask) if cfg.normalize_advantages else mb.advantages
    pg = clipped_surrogate_loss(log_probs, mb.log_probs, adv, mask, cfg.clip_coef)
    clip = cfg.value_clip if cfg.value_clip > 0 else None
    vf = value_loss(values, mb.targets, mask, mb.values, clip)
    count = mask.sum().clamp_min(1.0)
    ent = (entropy * mask).sum() / count
    loss = pg + cfg.value_coef * vf
    if cfg.entropy_coef > 0:
        loss = loss - cfg.entropy_coef * ent
    norm = step(optimizer, loss, policy, cfg.optim.max_grad_norm)
    with torch.no_grad():
        log_ratio = log_probs - mb.log_probs
        kl = ((log_ratio.exp() - 1 - log_ratio) * mask).sum() / count
        clipped = ((log_ratio.exp() - 1).abs() > cfg.clip_coef).float()
    return {"pg": pg.item(), "vf": vf.item(), "ent": ent.item(), "kl": kl.item(),
            "clip": float((clipped * mask).sum() / count), "norm": norm}  # fmt: skip
