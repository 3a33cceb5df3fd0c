"""PPO: the clipped surrogate, several epochs of minibatches per rollout (Schulman et al., 2017).

Psi_t = GAE(gamma, lambda) advantages, computed once per rollout; each minibatch step minimises
the clipped-ratio surrogate (:func:`pgrad.losses.clipped_surrogate_loss`) plus the value loss
(optionally clipped) minus the entropy bonus, through the network's NumPy or autograd backward
pass (:mod:`pgrad.policies.backprop`). Epochs stop early when the approximate KL between
the rollout's policy and the current one passes ``target_kl`` (if set).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from pgrad.algos.adam import Adam
from pgrad.algos.common import RolloutConfig, clip_and_step, estimate
from pgrad.algos.common import fixed_length_sampler as make_sampler
from pgrad.config import EvalConfig, OptimConfig, require, require_nonnegative, require_positive_int
from pgrad.errors import NonFiniteError
from pgrad.estimators.advantages import standardize
from pgrad.losses.gradients import clipped_surrogate_grad, mean_grad, value_loss_grad
from pgrad.policies.backprop import Backprop, make_backprop
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
    learner = make_backprop(policy)
    stats: dict[str, list[float]] = {k: [] for k in ("pg", "vf", "ent", "kl", "clip", "norm")}
    epochs = 0
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite values raise NonFiniteError
        for _ in range(cfg.update_epochs):
            epochs += 1
            for mb in batch.minibatches(cfg.num_minibatches, generator):
                for key, value in minibatch_step(learner, optimizer, mb, cfg).items():
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


def minibatch_step(learner: Backprop, optimizer: Adam, mb: Batch, cfg: PPOConfig
                   ) -> dict[str, float]:  # fmt: skip
    """One optimiser step on a minibatch's clipped surrogate, value loss and entropy bonus (a
    flat minibatch [B], or whole rows [B, T] for a recurrent policy).

    The losses are those of :mod:`pgrad.losses`; their gradients with respect to log pi, V and
    the entropy (:mod:`pgrad.losses.gradients`) go back through the network by ``learner``.

    Raises:
        NonFiniteError: the loss or the gradient is NaN or infinite (nothing is stepped).
    """
    assert mb.advantages is not None and mb.targets is not None and mb.log_probs is not None
    out = learner.forward(mb)
    mask = mb.mask.numpy()
    adv = mb.advantages.numpy()
    if cfg.normalize_advantages:
        adv = standardize(adv, mask)
    pg, d_log_prob, ratio = clipped_surrogate_grad(out.log_prob, mb.log_probs.numpy(), adv, mask,
                                                   cfg.clip_coef)  # fmt: skip
    clip = cfg.value_clip if cfg.value_clip > 0 else None
    old_values = mb.values.numpy() if clip is not None else None
    vf, d_value = value_loss_grad(out.value, mb.targets.numpy(), mask, old_values, clip)
    ent, d_entropy = mean_grad(out.entropy, mask)
    loss = pg + cfg.value_coef * vf - cfg.entropy_coef * ent
    if not math.isfinite(loss):
        raise NonFiniteError(f"the loss is {loss}")
    learner.backward(d_log_prob, -cfg.entropy_coef * d_entropy, cfg.value_coef * d_value)
    norm = clip_and_step(optimizer, cfg.optim.max_grad_norm)
    count = max(float(mask.sum()), 1.0)
    log_ratio = out.log_prob - mb.log_probs.numpy()
    kl = float(((ratio - 1.0 - log_ratio) * mask).sum()) / count
    clipped = float(((np.abs(ratio - 1.0) > cfg.clip_coef) * mask).sum())
    return {"pg": pg, "vf": vf, "ent": ent, "kl": kl, "clip": clipped / count, "norm": norm}
