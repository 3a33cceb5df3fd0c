"""Surrogate losses: pure functions over batched tensors (they import only torch)."""

from pgrad.losses.policy import clipped_surrogate_loss, score_function_loss
from pgrad.losses.value import value_loss

__all__ = ["clipped_surrogate_loss", "score_function_loss", "value_loss"]
