"""Value-function losses: pure functions over tensors."""

from __future__ import annotations

import torch
from torch import Tensor


def value_loss(
    values: Tensor,
    targets: Tensor,
    mask: Tensor,
    old_values: Tensor | None = None,
    clip_coef: float | None = None,
) -> Tensor:
    """0.5 * mean squared error of V(s) against its targets, over real steps ([B] or [B, T]).

    With ``old_values`` and ``clip_coef`` (PPO's value clipping) the loss is the larger of the
    plain error and the error of V clipped to within ``clip_coef`` of ``old_values``.
    """
    targets = targets.detach()
    error = (values - targets) ** 2
    if old_values is not None and clip_coef is not None:
        old = old_values.detach()
        clipped = old + (values - old).clamp(-clip_coef, clip_coef)
        error = torch.maximum(error, (clipped - targets) ** 2)
    return 0.5 * (error * mask).sum() / mask.sum().clamp_min(1.0)
