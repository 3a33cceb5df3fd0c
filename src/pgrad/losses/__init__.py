"""Surrogate losses: pure functions over batched tensors (they import only torch)."""

from pgrad.losses.policy import score_function_loss

__all__ = ["score_function_loss"]
