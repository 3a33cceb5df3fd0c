"""A2C: synchronous advantage actor-critic on fixed-length rollouts (Mnih et al., 2016).

One joint step per rollout: the score-function loss with Psi_t = GAE advantages (lambda = 1 by
default: the bootstrapped n-step return minus V(s_t)), averaged over steps, plus the value loss,
minus the entropy bonus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from pgrad.algos.adam import Adam
from pgrad.algos.common import RolloutConfig, estimate, step
from pgrad.algos.common import fixed_length_sampler as make_sampler
from pgrad.config import EvalConfig, OptimConfig
from pgrad.estimators.advantages import standardize
from pgrad.losses.policy import score_function_loss
from pgrad.losses.value import value_loss
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.batch import Batch
from pgrad.types import Metrics

__all__ = ["A2CConfig", "Config", "make_sampler", "update"]


@dataclass(frozen=True)
class A2CConfig(RolloutConfig):
    """Train A2C: synchronous advantage actor-critic on fixed-length rollouts of num_steps steps per
    copy; one joint step per rollout on the score-function loss with Psi_t = GAE advantages
    (lambda 1: the bootstrapped n-step return minus V(s_t)), the value loss and the entropy
    bonus."""

    algo: ClassVar[str] = "a2c"

    num_steps: int = 5
    gae_lambda: float = 1.0
    optim: OptimConfig = OptimConfig(lr=7e-4, value_lr=7e-4, max_grad_norm=0.5)
    eval: EvalConfig = EvalConfig(eval_interval=250)  # an update is 40 steps: about every 10k


Config = A2CConfig


def update(
    policy: MLPPolicy, optimizer: Adam, batch: Batch, cfg: A2CConfig, generator: torch.Generator
) -> Metrics:
    """One optimiser step on the rollout's joint actor-critic loss."""
    batch = estimate(batch, cfg)
    advantages, targets, mask = batch.advantages, batch.targets, batch.mask
    assert advantages is not None and targets is not None
    if cfg.normalize_advantages:
        advantages = standardize(advantages, mask)
    log_probs, entropy, values = policy.evaluate_steps(
        batch.obs, batch.actions, mask, batch.starts, batch.initial_state
    )
    pg = score_function_loss(log_probs, advantages, mask, per="step")
    vf = value_loss(values, targets, mask)
    ent = (entropy * mask).sum() / mask.sum().clamp_min(1.0)
    loss = pg + cfg.value_coef * vf
    if cfg.entropy_coef > 0:
        loss = loss - cfg.entropy_coef * ent
    grad_norm = step(optimizer, loss, policy, cfg.optim.max_grad_norm)
    return {"loss/policy": pg.item(), "loss/value": vf.item(), "policy/entropy": ent.item(),
            "opt/grad_norm": grad_norm}  # fmt: skip
