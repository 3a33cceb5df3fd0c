"""Policy losses: pure functions whose gradients are policy-gradient estimates."""

from __future__ import annotations

from torch import Tensor

from pgrad.estimators.returns import check_episode_batch


def score_function_loss(log_probs: Tensor, weights: Tensor, mask: Tensor) -> Tensor:
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

    Returns:
        A scalar tensor.
    """
    num_trajectories, _ = check_episode_batch(log_probs=log_probs, weights=weights, mask=mask)
    per_step = log_probs * weights.detach() * mask
    return -per_step.sum() / num_trajectories
