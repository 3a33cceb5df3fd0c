"""REINFORCE and VPG: one policy step on m complete episodes, then optional value regression.

    g_hat = (1/m) sum_i sum_t grad log pi(a_t^i | s_t^i) Psi_t^i

With Psi_t = R(tau_i) this is THEOREM.md's estimator (``--algo reinforce``, the default);
``--psi reward_to_go``, ``--baseline mean|value`` and ``--psi gae`` give the variance-reduced
members of the family, and ``--algo vpg`` is the GAE + learned-baseline preset. Data flow of one
update: episode batch -> Psi_t (:func:`pgrad.algos.common.episode_weights`) -> surrogate loss
(:func:`pgrad.losses.score_function_loss`, averaged over trajectories) -> one optimiser step ->
``value_epochs`` full-batch steps on the value loss.
"""

from __future__ import annotations

import torch

from pgrad.algos.adam import Adam
from pgrad.algos.common import episode_weights, step
from pgrad.config import Config
from pgrad.losses.policy import score_function_loss
from pgrad.losses.value import value_loss
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.episodes import EpisodeBatch
from pgrad.types import Metrics


def loss(
    policy: MLPPolicy, batch: EpisodeBatch, cfg: Config, weights: torch.Tensor | None = None
) -> tuple[torch.Tensor, Metrics]:
    """The policy loss of ``batch`` (gradient -g_hat, minus the entropy bonus) and statistics.

    ``weights`` are Psi_t [m, T]; by default :func:`episode_weights` as ``cfg`` chooses.
    """
    valid = batch.mask.bool()
    if weights is None:
        weights, _ = episode_weights(policy, batch, cfg)
    log_prob_flat, entropy_flat = policy.evaluate_actions(batch.obs[valid], batch.actions[valid])
    log_probs = torch.zeros_like(batch.mask).masked_scatter(valid, log_prob_flat)
    entropy = entropy_flat.mean()
    value = score_function_loss(log_probs, weights, batch.mask)
    if cfg.entropy_coef > 0:  # (a zero-weighted term would still cost a backward pass)
        value = value - cfg.entropy_coef * entropy
    return value, {"loss/policy": value.detach().item(), "policy/entropy": entropy.item()}


def update(
    policy: MLPPolicy,
    optimizer: Adam,
    batch: EpisodeBatch,
    cfg: Config,
    generator: torch.Generator,
) -> Metrics:
    """One gradient-ascent step along g_hat, then ``value_epochs`` value-function steps."""
    weights, targets = episode_weights(policy, batch, cfg)
    policy_loss, metrics = loss(policy, batch, cfg, weights)
    metrics["opt/grad_norm"] = step(optimizer, policy_loss, policy, cfg.max_grad_norm)
    if cfg.baseline == "value" and cfg.value_epochs > 0:
        valid = batch.mask.bool()
        obs, goal = batch.obs[valid], targets[valid]
        for _ in range(cfg.value_epochs):
            v_loss = value_loss(policy.value(obs), goal, torch.ones_like(goal))
            step(optimizer, v_loss, policy, cfg.max_grad_norm)
        metrics["loss/value"] = v_loss.item()
    return metrics
