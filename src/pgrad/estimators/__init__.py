"""Returns and advantages: pure functions over batched tensors (they import only torch)."""

from collections.abc import Callable

from torch import Tensor

from pgrad.estimators.returns import (
    check_episode_batch,
    discounted_returns,
    reward_to_go,
    trajectory_return_weights,
)

__all__ = [
    "WEIGHTINGS",
    "check_episode_batch",
    "discounted_returns",
    "reward_to_go",
    "trajectory_return_weights",
]

WEIGHTINGS: dict[str, Callable[[Tensor, Tensor, float], Tensor]] = {
    "reinforce": trajectory_return_weights,
    "reward_to_go": reward_to_go,
}
"""Psi_t from (rewards [m, T], mask [m, T], gamma), by estimator name."""
