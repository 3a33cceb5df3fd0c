"""The MultiDiscrete and MultiBinary heads' score functions against the exact gradient.

A finite MDP whose action is a pair (a_1, a_2) in MultiDiscrete([2, 3]) has 6 joint actions; the
head's independent categoricals give pi(a|s) = pi_1(a_1|s) pi_2(a_2|s), a softmax policy with
joint logits L[s, a] = log pi(a|s). Its exact gradient with respect to the head's logits is the
lab's exact gradient with respect to L, carried back through L by autograd; the REINFORCE
estimate built from the head's log-probabilities must agree within 5 standard errors. MultiBinary
is the same construction with {0, 1}^n joint actions.
"""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
import torch

from pgrad.exact import FiniteMDP, policy_gradient, sample_trajectories
from pgrad.policies.heads import make_head

SPACES = {
    "multi_discrete": gym.spaces.MultiDiscrete([2, 3]),
    "multi_binary": gym.spaces.MultiBinary(2),
}


def _mdp(num_actions: int, seed: int = 0) -> FiniteMDP:
    rng = np.random.default_rng(seed)
    s, a = 3, num_actions
    transitions = rng.dirichlet(np.ones(s), size=(s, a))
    rewards = rng.normal(size=(s, a))
    return FiniteMDP(np.full(s, 1.0 / s), transitions, rewards, horizon=3, discount=1.0)


@pytest.mark.parametrize("kind", sorted(SPACES))
def test_reinforce_with_the_head_matches_the_exact_gradient(kind: str) -> None:
    space = SPACES[kind]
    sizes = space.nvec.tolist() if kind == "multi_discrete" else [2] * int(space.n)
    joint = torch.tensor(list(itertools.product(*(range(k) for k in sizes))))  # [A, d]
    mdp = _mdp(joint.shape[0])
    head = make_head(space)
    gen = torch.Generator().manual_seed(1)
    theta = torch.randn(mdp.num_states, head.num_outputs, generator=gen, requires_grad=True)

    def joint_log_probs(theta: torch.Tensor) -> torch.Tensor:  # L [S, A]
        rows = theta.repeat_interleave(joint.shape[0], 0)
        return head.log_prob_entropy(rows, joint.repeat(mdp.num_states, 1))[0].reshape(
            mdp.num_states, -1
        )

    logits = joint_log_probs(theta)
    exact_l = torch.from_numpy(policy_gradient(mdp, logits.detach().double().numpy()))
    (exact,) = torch.autograd.grad((logits * exact_l.float()).sum(), theta)

    # Score of each (s, a): d log pi(a|s) / d theta[s], from the head's log-probability.
    score = torch.zeros(mdp.num_states, joint.shape[0], head.num_outputs)
    for s, a in itertools.product(range(mdp.num_states), range(joint.shape[0])):
        lp = head.log_prob_entropy(theta[s : s + 1], joint[a : a + 1])[0].sum()
        score[s, a] = torch.autograd.grad(lp, theta)[0][s]
    m = 40_000
    traj = sample_trajectories(mdp, logits.detach().double().numpy(), m, seed=2)
    returns = torch.from_numpy(traj.rewards.sum(1)).float()  # R(tau), discount 1
    states, actions = torch.from_numpy(traj.states), torch.from_numpy(traj.actions)
    per_traj = torch.zeros(m, mdp.num_states, head.num_outputs)
    for t in range(mdp.horizon):
        per_traj[torch.arange(m), states[:, t]] += score[states[:, t], actions[:, t]]
    per_traj *= returns[:, None, None]
    mean, se = per_traj.mean(0), per_traj.std(0) / np.sqrt(m)
    assert ((mean - exact).abs() <= 5 * se + 1e-6).all(), (mean, exact, se)
    assert exact.abs().max() > 10 * se.max()  # the check has power: the gradient is not ~0
