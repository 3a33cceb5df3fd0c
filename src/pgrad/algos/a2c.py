"""A2C: synchronous advantage actor-critic on fixed-length rollouts (Mnih et al., 2016).

One joint step per rollout: the score-function loss with Psi_t = GAE advantages (lambda = 1 by
default: the bootstrapped n-step return minus V(s_t)), averaged over steps, plus the value loss,
minus the entropy bonus.
"""

from __future__ import annotations

import torch

from pgrad.algos.adam import Adam
from pgrad.algos.common import rollout_weights, step
from pgrad.config import Config
from pgrad.estimators.advantages import standardize
from pgrad.losses.policy import score_function_loss
from pgrad.losses.value import value_loss
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.fixed import Rollout
from pgrad.types import Metrics


def update(
    policy: MLPPolicy, optimizer: Adam, batch: Rollout, cfg: Config, generator: torch.Generator
) -> Metrics:
    """One optimiser step on the rollout's joint actor-critic loss."""
    advantages, targets = rollout_weights(batch, cfg)
    if cfg.normalize_advantages:
        advantages = standardize(advantages, batch.mask)
    n, t = batch.mask.shape
    log_probs, entropy, values = policy.evaluate(
        batch.obs.reshape(n * t, -1), batch.actions.reshape(n * t, *batch.actions.shape[2:])
    )
    mask = batch.mask
    pg = score_function_loss(log_probs.reshape(n, t), advantages, mask, per="step")
    vf = value_loss(values.reshape(n, t), targets, mask)
    ent = (entropy.reshape(n, t) * mask).sum() / mask.sum().clamp_min(1.0)
    loss = pg + cfg.value_coef * vf
    if cfg.entropy_coef > 0:
        loss = loss - cfg.entropy_coef * ent
    grad_norm = step(optimizer, loss, policy, cfg.max_grad_norm)
    return {"loss/policy": pg.item(), "loss/value": vf.item(), "policy/entropy": ent.item(),
            "opt/grad_norm": grad_norm}  # fmt: skip
