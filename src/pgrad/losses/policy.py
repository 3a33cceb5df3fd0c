"""Policy losses: pure functions whose gradients are policy-gradient estimates."""

from __future__ import annotations

import torch
from torch import Tensor

from pgrad.estimators.returns import check_episode_batch


def score_function_loss(
    log_probs: Tensor, weights: Tensor, mask: Tensor, per: str = "trajectory"
) -> Tensor:
    """The REINFORCE surrogate, averaged over trajectories (Williams, 1992).

    loss = -(1/m) sum_i sum_t mask[i, t] * log pi(a_t^i | s_t^i) * Psi[i, t]

    Its gradient is -g_hat, where g_hat = (1/m) sum_i sum_t grad log pi(a_t|s_t) Psi_t. With
    Psi_t = R(tau_i) (see :func:`pgrad.estimators.trajectory_return_weights`) this is exactly the
    estimator of THEOREM.md. The 1/m averages over trajectories, not over time steps. The weights
    are treated as constants (detached), so no gradient flows through them.

    Args:
        log_probs: float [m, T], log pi(a_t|s_t) with autograd; any value on padding.
        weights: float [m, T], Psi_t.
        mask: float [m, T], 1.0 on real steps and 0.0 on padding.
        per: ``"trajectory"`` divides the sum by m (the theorem's estimator); ``"step"`` divides
            it by the number of real steps, the convention of fixed-length rollouts (A2C, PPO),
            where rows are environment copies rather than whole episodes.

    Returns:
        A scalar tensor.
    """
    rows, _ = check_episode_batch(log_probs=log_probs, weights=weights, mask=mask)
    per_step = log_probs * weights.detach() * mask
    if per == "trajectory":
        return -per_step.sum() / rows
    if per == "step":
        return -per_step.sum() / mask.sum().clamp_min(1.0)
    raise ValueError(f"per must be 'trajectory' or 'step', got {per!r}")


def clipped_surrogate_loss(
    log_probs: Tensor, old_log_probs: Tensor, advantages: Tensor, mask: Tensor, clip_coef: float
) -> Tensor:
    """PPO's clipped surrogate (Schulman et al., 2017, arXiv:1707.06347), averaged over steps.

    loss = -mean_t min(rho_t A_t, clip(rho_t, 1 - eps, 1 + eps) A_t),  rho_t = pi(a_t|s_t) / pi_old.

    At rho = 1 (the first gradient of the first epoch) its gradient is the score-function
    estimator with Psi_t = A_t averaged over steps; later epochs reuse the same data off-policy.

    Args:
        log_probs: float [B], log pi(a|s) with autograd.
        old_log_probs, advantages: float [B], from the rollout (treated as constants).
        mask: float [B], 1.0 on real steps.
        clip_coef: epsilon.
    """
    ratio = torch.exp(log_probs - old_log_probs.detach())
    adv = advantages.detach()
    surrogate = torch.minimum(ratio * adv, ratio.clamp(1 - clip_coef, 1 + clip_coef) * adv)
    return -(surrogate * mask).sum() / mask.sum().clamp_min(1.0)
