"""Returns, advantages and the Psi recipe: pure functions over batched tensors (torch only)."""

from pgrad.estimators.psi import PsiRecipe, parse_recipe, psi_weights
from pgrad.estimators.returns import (
    check_episode_batch,
    discounted_returns,
    reward_to_go,
    trajectory_return_weights,
)

__all__ = [
    "PsiRecipe",
    "check_episode_batch",
    "discounted_returns",
    "parse_recipe",
    "psi_weights",
    "reward_to_go",
    "trajectory_return_weights",
]
