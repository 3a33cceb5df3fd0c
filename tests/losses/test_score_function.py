"""The REINFORCE loss: autograd through it gives -g_hat computed by hand.

For a tabular softmax policy pi(a|s) = softmax(theta[s])_a the score is closed-form:
d log pi(a|s) / d theta[s', b] = [s' = s] ([b = a] - pi(b|s)).
"""

from __future__ import annotations

import math

import pytest
import torch

from pgrad.estimators.returns import trajectory_return_weights
from pgrad.losses.policy import score_function_loss

# Three hand-written trajectories of a 2-state, 3-action problem: (state, action, reward) per step.
TRAJECTORIES = [
    [(0, 1, 1.0), (1, 2, 0.0), (0, 0, 2.0)],
    [(1, 0, -1.0)],
    [(0, 2, 0.5), (0, 2, 0.5)],
]
THETA = torch.tensor([[0.2, -0.1, 0.4], [1.0, 0.0, -0.5]], dtype=torch.float64)


def _padded() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    m, horizon = len(TRAJECTORIES), max(len(t) for t in TRAJECTORIES)
    states = torch.zeros(m, horizon, dtype=torch.long)
    actions = torch.zeros(m, horizon, dtype=torch.long)
    rewards = torch.zeros(m, horizon, dtype=torch.float64)
    mask = torch.zeros(m, horizon, dtype=torch.float64)
    for i, traj in enumerate(TRAJECTORIES):
        for t, (s, a, r) in enumerate(traj):
            states[i, t], actions[i, t], rewards[i, t], mask[i, t] = s, a, r, 1.0
    return states, actions, rewards, mask


def _g_hat_by_hand(gamma: float) -> torch.Tensor:
    pi = torch.softmax(THETA, dim=1)
    g = torch.zeros_like(THETA)
    for traj in TRAJECTORIES:
        ret = sum(gamma**t * r for t, (_, _, r) in enumerate(traj))
        for s, a, _ in traj:
            score = torch.zeros_like(THETA)
            score[s] = -pi[s]
            score[s, a] += 1.0
            g += score * ret
    return g / len(TRAJECTORIES)


@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_autograd_through_loss_is_minus_g_hat(gamma: float) -> None:
    states, actions, rewards, mask = _padded()
    theta = THETA.clone().requires_grad_(True)
    log_pi = torch.log_softmax(theta, dim=1)
    log_probs = log_pi[states, actions]
    weights = trajectory_return_weights(rewards, mask, gamma=gamma)
    score_function_loss(log_probs, weights, mask).backward()
    torch.testing.assert_close(-theta.grad, _g_hat_by_hand(gamma), rtol=1e-12, atol=1e-12)


def test_averages_over_trajectories_not_steps() -> None:
    # One trajectory of 4 steps with log-prob 1 and weight 1 per step: loss = -4, not -1.
    ones = torch.ones(1, 4)
    assert score_function_loss(ones, ones, ones).item() == -4.0
    # Two such trajectories: still -4 (the mean over m = 2).
    assert score_function_loss(torch.ones(2, 4), torch.ones(2, 4), torch.ones(2, 4)).item() == -4.0


def test_no_gradient_through_weights_or_padding() -> None:
    log_probs = torch.tensor([[math.log(0.5), 123.0]], requires_grad=True)
    weights = torch.tensor([[3.0, 3.0]], requires_grad=True)
    mask = torch.tensor([[1.0, 0.0]])
    score_function_loss(log_probs, weights, mask).backward()
    assert weights.grad is None
    torch.testing.assert_close(log_probs.grad, torch.tensor([[-3.0, 0.0]]))
