"""Whole-trajectory returns against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from pgrad.estimators.returns import discounted_returns, trajectory_return_weights


def test_discounted_returns_by_hand() -> None:
    rewards = torch.tensor([[1.0, 2.0, 3.0], [5.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    out = discounted_returns(rewards, mask, gamma=0.5)
    torch.testing.assert_close(out, torch.tensor([1.0 + 0.5 * 2.0 + 0.25 * 3.0, 5.0]))


def test_padding_never_counts() -> None:
    rewards = torch.tensor([[1.0, 99.0]])
    mask = torch.tensor([[1.0, 0.0]])
    assert discounted_returns(rewards, mask, gamma=1.0).item() == 1.0


def test_weights_repeat_the_return_on_real_steps_only() -> None:
    rewards = torch.tensor([[1.0, 1.0, 0.0], [2.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    weights = trajectory_return_weights(rewards, mask, gamma=1.0)
    torch.testing.assert_close(weights, torch.tensor([[2.0, 2.0, 0.0], [2.0, 0.0, 0.0]]))


def test_shape_mismatch_names_the_argument() -> None:
    with pytest.raises(ValueError, match="mask"):
        discounted_returns(torch.zeros(2, 3), torch.zeros(2, 4), gamma=1.0)
    with pytest.raises(ValueError, match="rewards"):
        discounted_returns(torch.zeros(3), torch.zeros(3), gamma=1.0)
