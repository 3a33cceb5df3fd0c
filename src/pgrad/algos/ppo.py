"""PPO: the clipped surrogate, several epochs of minibatches per rollout (Schulman et al., 2017).

Psi_t = GAE(gamma, lambda) advantages, computed once per rollout; each minibatch step minimises
the clipped-ratio surrogate (:func:`pgrad.losses.clipped_surrogate_loss`) plus the value loss
(optionally clipped) minus the entropy bonus. Epochs stop early when the approximate KL between
the rollout's policy and the current one passes ``target_kl`` (if set).
"""

from __future__ import annotations

import torch

from pgrad.algos.adam import Adam
from pgrad.algos.common import rollout_weights, step
from pgrad.config import Config
from pgrad.estimators.advantages import standardize
from pgrad.losses.policy import clipped_surrogate_loss
from pgrad.losses.value import value_loss
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.fixed import Rollout
from pgrad.types import Metrics


def update(
    policy: MLPPolicy, optimizer: Adam, batch: Rollout, cfg: Config, generator: torch.Generator
) -> Metrics:
    """``update_epochs`` passes of ``num_minibatches`` minibatch steps over the rollout."""
    advantages, targets = rollout_weights(batch, cfg)
    size = batch.mask.numel()
    obs = batch.obs.reshape(size, -1)
    actions = batch.actions.reshape(size, *batch.actions.shape[2:])
    flat = {
        "old_log_probs": batch.log_probs.reshape(size),
        "advantages": advantages.reshape(size),
        "targets": targets.reshape(size),
        "old_values": batch.values.reshape(size),
        "mask": batch.mask.reshape(size),
    }
    minibatch = size // cfg.num_minibatches
    stats: dict[str, list[float]] = {k: [] for k in ("pg", "vf", "ent", "kl", "clip", "norm")}
    epochs = 0
    for _ in range(cfg.update_epochs):
        epochs += 1
        order = torch.randperm(size, generator=generator)
        for index in order.split(minibatch):
            mb = {k: v[index] for k, v in flat.items()}
            mask = mb["mask"]
            log_probs, entropy, values = policy.evaluate(obs[index], actions[index])
            adv = (
                standardize(mb["advantages"], mask)
                if cfg.normalize_advantages
                else mb["advantages"]
            )
            pg = clipped_surrogate_loss(log_probs, mb["old_log_probs"], adv, mask, cfg.clip_coef)
            clip = cfg.value_clip if cfg.value_clip > 0 else None
            vf = value_loss(values, mb["targets"], mask, mb["old_values"], clip)
            count = mask.sum().clamp_min(1.0)
            ent = (entropy * mask).sum() / count
            loss = pg + cfg.value_coef * vf
            if cfg.entropy_coef > 0:
                loss = loss - cfg.entropy_coef * ent
            stats["norm"].append(step(optimizer, loss, policy, cfg.max_grad_norm))
            with torch.no_grad():
                log_ratio = log_probs - mb["old_log_probs"]
                kl = ((log_ratio.exp() - 1 - log_ratio) * mask).sum() / count
                clipped = ((log_ratio.exp() - 1).abs() > cfg.clip_coef).float()
            stats["pg"].append(pg.item())
            stats["vf"].append(vf.item())
            stats["ent"].append(ent.item())
            stats["kl"].append(kl.item())
            stats["clip"].append(float((clipped * mask).sum() / count))
        if cfg.target_kl > 0 and stats["kl"][-1] > cfg.target_kl:
            break

    def mean(key: str) -> float:
        return sum(stats[key]) / len(stats[key])

    return {
        "loss/policy": mean("pg"), "loss/value": mean("vf"), "policy/entropy": mean("ent"),
        "policy/approx_kl": mean("kl"), "policy/clipfrac": mean("clip"),
        "opt/grad_norm": mean("norm"), "opt/epochs": float(epochs),
    }  # fmt: skip
