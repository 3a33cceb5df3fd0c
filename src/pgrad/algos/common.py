"""Parts every algorithm shares: Psi_t and value targets for a batch, the optimiser, one step."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

import torch
from torch import Tensor

from pgrad.algos.adam import Adam
from pgrad.config import Config
from pgrad.estimators import WEIGHTINGS
from pgrad.estimators.advantages import batch_mean_baseline, gae, standardize, value_baseline
from pgrad.estimators.returns import returns_to_go
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.episodes import EpisodeBatch
from pgrad.rollout.fixed import Rollout

B = TypeVar("B", EpisodeBatch, Rollout)


def make_optimizer(policy: MLPPolicy, cfg: Config) -> Adam:
    """Adam (eps 1e-5) with two parameter groups: the policy (``lr``) and a separate value net."""
    groups = [{"params": policy.policy_parameters(), "lr": cfg.lr, "base_lr": cfg.lr}]
    if policy.value_parameters():
        groups.append(
            {"params": policy.value_parameters(), "lr": cfg.value_lr, "base_lr": cfg.value_lr}
        )
    return Adam(groups, eps=1e-5)


def set_learning_rate(optimizer: Adam, cfg: Config, progress: float) -> float:
    """Apply the schedule at ``progress`` in [0, 1] of the budget; return the policy's rate."""
    factor = 1.0 - progress if cfg.lr_schedule == "linear" else 1.0
    for group in optimizer.param_groups:
        group["lr"] = group["base_lr"] * max(factor, 0.0)
    return float(optimizer.param_groups[0]["lr"])


def step(optimizer: Adam, loss: Tensor, policy: MLPPolicy, max_grad_norm: float) -> float:
    """Backpropagate ``loss``, clip the global gradient norm (if > 0), step; return the norm."""
    optimizer.zero_grad()
    loss.backward()
    params = [p for p in policy.parameters() if p.grad is not None]
    if max_grad_norm > 0:
        norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
    else:
        norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params]))
    optimizer.step()
    return float(norm)


class RewardScaler:
    """Divides rewards by a running standard deviation of the discounted return-to-go."""

    def __init__(self) -> None:
        self.count, self.mean, self.var = 0.0, 0.0, 1.0

    def scale(self, batch: B, gamma: float) -> B:
        """Fold the batch's returns into the statistics; return the batch with scaled rewards."""
        g = returns_to_go(batch.rewards, batch.mask, gamma)[batch.mask.bool()].double()
        if g.numel():
            n, mean, var = float(g.numel()), float(g.mean()), float(g.var(unbiased=False))
            total = self.count + n
            delta = mean - self.mean
            self.var = (self.var * self.count + var * n + delta**2 * self.count * n / total) / total
            self.mean += delta * n / total
            self.count = total
        std = max(self.var, 1e-8) ** 0.5
        return dataclasses.replace(batch, rewards=batch.rewards / std)


def values_of(policy: MLPPolicy, obs: Tensor, mask: Tensor) -> Tensor:
    """V(s) for obs [B, T, obs_dim] on real steps, 0.0 elsewhere; float [B, T], no autograd."""
    out = torch.zeros_like(mask)
    valid = mask.bool()
    with torch.no_grad():
        out[valid] = policy.value(obs[valid])
    return out


def episode_weights(policy: MLPPolicy, batch: EpisodeBatch, cfg: Config) -> tuple[Tensor, Tensor]:
    """Psi_t and value targets [m, T] for complete episodes, as ``cfg`` chooses.

    psi ``return`` / ``reward_to_go`` come from :data:`pgrad.estimators.WEIGHTINGS`; a value
    baseline subtracts gamma^t V(s_t) (:func:`pgrad.estimators.advantages.value_baseline`).
    psi ``gae`` is GAE(gamma, lambda). Value targets are GAE(gamma, lambda or 1) + V, which
    bootstraps a truncated episode from V of its final observation.
    """
    mask, rewards = batch.mask, batch.rewards
    needs_value = cfg.baseline == "value"
    values = values_of(policy, batch.obs, mask) if needs_value else torch.zeros_like(mask)
    targets = torch.zeros_like(mask)
    if needs_value:
        next_values = values_of(policy, batch.next_obs(), mask)
        lam = cfg.gae_lambda if cfg.psi == "gae" else 1.0
        advantages = gae(rewards, values, next_values, batch.terminated, batch.truncated, mask,
                         cfg.gamma, lam)  # fmt: skip
        targets = (advantages + values) * mask
    if cfg.psi == "gae":
        psi = advantages
    else:
        psi = WEIGHTINGS["reinforce" if cfg.psi == "return" else "reward_to_go"](
            rewards, mask, cfg.gamma
        )
        if cfg.baseline == "mean":
            psi = batch_mean_baseline(psi, mask)
        elif cfg.baseline == "value":
            psi = value_baseline(psi, values, mask, cfg.gamma)
    if cfg.normalize_advantages:
        psi = standardize(psi, mask)
    return psi * mask, targets


def rollout_weights(batch: Rollout, cfg: Config) -> tuple[Tensor, Tensor]:
    """GAE advantages and value targets [N, T] for a fixed-length rollout (bootstrapped)."""
    advantages = gae(batch.rewards, batch.values, batch.next_values, batch.terminated,
                     batch.truncated, batch.mask, cfg.gamma, cfg.gae_lambda)  # fmt: skip
    targets = (advantages + batch.values) * batch.mask
    return advantages, targets
