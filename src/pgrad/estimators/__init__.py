"""Returns and advantages: pure functions over batched tensors (they import only torch)."""

from pgrad.estimators.returns import (
    check_episode_batch,
    discounted_returns,
    trajectory_return_weights,
)

__all__ = ["check_episode_batch", "discounted_returns", "trajectory_return_weights"]
