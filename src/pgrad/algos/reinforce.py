"""REINFORCE as THEOREM.md states it: one gradient step on g_hat per batch of m episodes.

    g_hat = (1/m) sum_i sum_t grad log pi(a_t^i | s_t^i) R(tau_i)

The data flow of one update: episode batch -> weights Psi_t = R(tau_i)
(:func:`pgrad.estimators.trajectory_return_weights`) -> surrogate loss
(:func:`pgrad.losses.score_function_loss`) -> one optimiser step.
"""

from __future__ import annotations

import torch
from torch.optim import Optimizer

from pgrad.estimators.returns import trajectory_return_weights
from pgrad.losses.policy import score_function_loss
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.episodes import EpisodeBatch
from pgrad.types import Metrics


def loss(policy: MLPPolicy, batch: EpisodeBatch, gamma: float) -> tuple[torch.Tensor, Metrics]:
    """The REINFORCE loss of ``batch`` under ``policy`` (gradient -g_hat) and its statistics."""
    valid = batch.mask.bool()
    log_prob_flat, entropy_flat = policy.evaluate_actions(batch.obs[valid], batch.actions[valid])
    log_probs = torch.zeros_like(batch.mask).masked_scatter(valid, log_prob_flat)
    weights = trajectory_return_weights(batch.rewards, batch.mask, gamma)
    value = score_function_loss(log_probs, weights, batch.mask)
    return value, {
        "loss/policy": value.detach().item(),
        "policy/entropy": entropy_flat.detach().mean().item(),
    }


def update(policy: MLPPolicy, optimizer: Optimizer, batch: EpisodeBatch, gamma: float) -> Metrics:
    """One gradient-ascent step on J along g_hat; returns loss, entropy and gradient norm."""
    value, metrics = loss(policy, batch, gamma)
    optimizer.zero_grad(set_to_none=True)
    value.backward()
    grads = [p.grad for p in policy.parameters() if p.grad is not None]
    metrics["opt/grad_norm"] = float(
        torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))
    )
    optimizer.step()
    return metrics
