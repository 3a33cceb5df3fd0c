"""The losses and their gradients with respect to the network's outputs, in closed form (NumPy).

An update step needs dL/d log pi(a|s), dL/dV(s) and dL/dH at each step of a minibatch; the
backward pass of the network (:mod:`pgrad.policies.backprop`) takes them from there. Each function
here returns a loss of :mod:`pgrad.losses.policy` or :mod:`pgrad.losses.value` and that loss's
gradient with respect to its first argument, computed without autograd, for arrays of any shape
(a flat minibatch [B] or rows [B, T]) in their own dtype. They are the same functions: the
tests check every value and gradient against the PyTorch loss and its autograd, ties and clipped
steps included (``tests/losses/test_gradients.py``).

Ties are broken as PyTorch breaks them: ``torch.minimum`` and ``torch.maximum`` pass half the
gradient to each side of a tie, and ``clamp`` passes it at the bounds.
"""

from __future__ import annotations

import numpy as np


def _mean_weights(mask: np.ndarray) -> np.ndarray:
    """mask / max(sum(mask), 1): the weights of a mean over real steps."""
    return mask / max(float(mask.sum()), 1.0)


def clipped_surrogate_grad(
    log_probs: np.ndarray, old_log_probs: np.ndarray, advantages: np.ndarray, mask: np.ndarray,
    clip_coef: float,
) -> tuple[float, np.ndarray, np.ndarray]:  # fmt: skip
    """PPO's clipped surrogate (:func:`pgrad.losses.clipped_surrogate_loss`) and its gradient.

    Returns:
        (loss, dloss/d log_probs shaped like ``log_probs``, the ratio rho = pi / pi_old).
    """
    ratio = np.exp(log_probs - old_log_probs)
    plain = ratio * advantages
    low, high = 1.0 - clip_coef, 1.0 + clip_coef
    clipped = np.minimum(np.maximum(ratio, low), high) * advantages
    inside = (ratio >= low) & (ratio <= high)
    # d min(plain, clipped) / d log pi: plain's side is rho A, the clipped side rho A inside.
    # At a tie either both sides are rho A (inside) or A = 0: the gradient is rho A * share.
    share = (plain < clipped) | inside
    weights = _mean_weights(mask)
    loss = -float(np.dot(np.minimum(plain, clipped).reshape(-1), weights.reshape(-1)))
    grad = plain * share
    grad *= -weights
    return loss, grad.astype(log_probs.dtype, copy=False), ratio


def value_loss_grad(
    values: np.ndarray, targets: np.ndarray, mask: np.ndarray,
    old_values: np.ndarray | None = None, clip_coef: float | None = None,
) -> tuple[float, np.ndarray]:  # fmt: skip
    """The value loss (:func:`pgrad.losses.value_loss`) and its gradient with respect to V.

    0.5 * mean squared error over real steps; with ``old_values`` and ``clip_coef``, the larger of
    the plain error and that of V clipped to within ``clip_coef`` of ``old_values``.
    """
    weights = _mean_weights(mask)
    diff = values - targets
    error, grad = diff**2, 2.0 * diff
    if old_values is not None and clip_coef is not None:
        step = values - old_values
        clipped = old_values + np.clip(step, -clip_coef, clip_coef) - targets
        inside = (step >= -clip_coef) & (step <= clip_coef)
        error_clipped, grad_clipped = clipped**2, 2.0 * clipped * inside
        grad = np.where(error > error_clipped, grad, np.where(
            error < error_clipped, grad_clipped, 0.5 * (grad + grad_clipped)))  # fmt: skip
        error = np.maximum(error, error_clipped)
    loss = 0.5 * float((error * weights).sum())
    return loss, (0.5 * grad * weights).astype(values.dtype)


def mean_grad(x: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray]:
    """The mean of ``x`` over real steps and its gradient with respect to ``x`` (the entropy
    bonus's form)."""
    weights = _mean_weights(mask)
    return float((x * weights).sum()), weights.astype(x.dtype)
