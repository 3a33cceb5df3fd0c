"""Surrogate losses: pure functions over batched tensors, and their closed-form gradients over
NumPy arrays (:mod:`pgrad.losses.gradients`)."""

from pgrad.losses.policy import clipped_surrogate_loss, score_function_loss
from pgrad.losses.value import value_loss

__all__ = ["clipped_surrogate_loss", "score_function_loss", "value_loss"]
