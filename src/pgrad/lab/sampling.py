"""Sampled gradient estimates on a finite MDP, through the trainer's own loss function.

Trajectories are drawn in NumPy (all m at once), laid out as the padded [m, T] batch the trainer
uses (every trajectory of a finite MDP has exactly T steps, so the mask is all ones), and the
gradient is autograd through :func:`pgrad.losses.score_function_loss` with the weights Psi_t of
:data:`pgrad.estimators.WEIGHTINGS`: the same code that trains agents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pgrad.envs.finite import FiniteMDP
from pgrad.estimators import WEIGHTINGS
from pgrad.estimators.advantages import batch_mean_baseline, gae, value_baseline
from pgrad.lab.exact import policy_gradient, values
from pgrad.losses.policy import clipped_surrogate_loss, score_function_loss

GAE_LAMBDA = 0.95
"""lambda of the lab's ``gae`` estimator."""

PPO_STEP_SIZE = 1.0
"""Step on the logits taken by the first epoch of the lab's ``ppo_epoch2`` estimator."""

PPO_CLIP = 0.2
"""epsilon of its clipped surrogate."""


@dataclass(frozen=True)
class Trajectories:
    """m sampled trajectories of a finite MDP: states, actions, rewards, each int/float [m, T]."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray


def sample_trajectories(mdp: FiniteMDP, logits: Any, m: int, seed: int) -> Trajectories:
    """Draw m trajectories of the softmax policy; the same seed gives the same trajectories."""
    if m < 1:
        raise ValueError(f"num_trajectories: must be >= 1, got {m}")
    rng = np.random.default_rng(seed)
    pi_cum = np.cumsum(mdp.policy(logits), axis=1)
    p_cum = np.cumsum(mdp.transitions, axis=2)
    states = np.empty((m, mdp.horizon), np.int64)
    actions = np.empty((m, mdp.horizon), np.int64)
    state = _inverse_cdf(np.cumsum(mdp.initial)[None, :], rng.random(m))
    for t in range(mdp.horizon):
        states[:, t] = state
        actions[:, t] = _inverse_cdf(pi_cum[state], rng.random(m))
        state = _inverse_cdf(p_cum[state, actions[:, t]], rng.random(m))
    return Trajectories(states, actions, mdp.rewards[states, actions])


def _inverse_cdf(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn from each row's distribution given its CDF [m or 1, K] and uniforms [m]."""
    index = (u[:, None] * cumulative[:, -1:] >= cumulative).sum(axis=1)
    return np.minimum(index, cumulative.shape[1] - 1)


@dataclass(frozen=True)
class LabBatch:
    """What a lab estimator may use: the MDP, the logits, and sampled trajectories as tensors."""

    mdp: FiniteMDP
    logits: np.ndarray
    trajectories: Trajectories
    rewards: torch.Tensor
    mask: torch.Tensor

    def exact_values(self) -> torch.Tensor:
        """V_t(s_t) of the policy, exact, float [m, T] (the best possible state baseline)."""
        v = values(self.mdp, self.logits).v
        steps = np.arange(self.mdp.horizon)[None, :]
        return torch.from_numpy(v[steps, self.trajectories.states])

    def approximate_values(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(V(s_t), V(s_{t+1})) [m, T] from a time-averaged V(s) = mean_t V_t(s).

        A stationary value table cannot represent a finite horizon's time-dependent values, so
        it stands for the approximate critic of a real agent.
        """
        v = values(self.mdp, self.logits).v[:-1].mean(axis=0)
        states = self.trajectories.states
        now = torch.from_numpy(v[states])
        following = torch.zeros_like(now)
        following[:, :-1] = now[:, 1:]  # the last step terminates; its successor is unused
        return now, following


def _gae(batch: LabBatch) -> torch.Tensor:
    now, following = batch.approximate_values()
    terminated = torch.zeros_like(batch.mask, dtype=torch.bool)
    terminated[:, -1] = True
    return gae(batch.rewards, now, following, terminated, torch.zeros_like(terminated),
               batch.mask, batch.mdp.discount, GAE_LAMBDA)  # fmt: skip


LAB_ESTIMATORS: dict[str, Callable[[LabBatch], torch.Tensor]] = {
    "reinforce": lambda b: WEIGHTINGS["reinforce"](b.rewards, b.mask, b.mdp.discount),
    "reward_to_go": lambda b: WEIGHTINGS["reward_to_go"](b.rewards, b.mask, b.mdp.discount),
    "mean_baseline": lambda b: batch_mean_baseline(
        WEIGHTINGS["reinforce"](b.rewards, b.mask, b.mdp.discount), b.mask
    ),
    "rtg_mean_baseline": lambda b: batch_mean_baseline(
        WEIGHTINGS["reward_to_go"](b.rewards, b.mask, b.mdp.discount), b.mask
    ),
    "value_baseline": lambda b: value_baseline(
        WEIGHTINGS["reward_to_go"](b.rewards, b.mask, b.mdp.discount),
        b.exact_values(),
        b.mask,
        b.mdp.discount,
    ),
    "gae": _gae,
}
"""Psi_t of each estimator the lab measures, from the same functions the trainer uses:

- ``reinforce``: R(tau) (THEOREM.md's g_hat); ``reward_to_go``: sum_{t'>=t} gamma^t' r_t';
- ``mean_baseline``: R(tau) minus the mean return of the batch's *other* trajectories (unbiased);
- ``rtg_mean_baseline``: reward-to-go minus the other trajectories' mean reward-to-go at the same
  step (unbiased; ``pgrad train``'s default weighting);
- ``value_baseline``: reward-to-go minus gamma^t V_t(s_t) with the exact values (unbiased);
- ``gae``: GAE(gamma, 0.95) with an approximate, time-averaged V (biased, as a learned critic is).
"""


def per_trajectory_gradients(
    mdp: FiniteMDP, logits: Any, trajectories: Trajectories, estimator: str = "reinforce"
) -> np.ndarray:
    """g_i [m, S, A]: each trajectory's term of g_hat, so that g_hat = mean_i g_i.

    One backward pass through the trainer's loss with a private copy of the logits per
    trajectory: the loss is -(1/m) sum_i (...), so d loss / d logits_i = -g_i / m.
    """
    if estimator not in LAB_ESTIMATORS:
        raise ValueError(
            f"estimator: expected one of {', '.join(LAB_ESTIMATORS)}, got {estimator!r}"
        )
    base = torch.tensor(mdp.check_logits(logits))
    m = trajectories.states.shape[0]
    copies = base.expand(m, *base.shape).clone().requires_grad_(True)  # [m, S, A]
    states = torch.from_numpy(trajectories.states)
    actions = torch.from_numpy(trajectories.actions)
    rows = torch.arange(m).unsqueeze(1)
    log_probs = torch.log_softmax(copies, dim=2)[rows, states, actions]  # [m, T]
    rewards = torch.from_numpy(trajectories.rewards)
    mask = torch.ones_like(rewards)
    batch = LabBatch(mdp, np.asarray(base), trajectories, rewards, mask)
    weights = LAB_ESTIMATORS[estimator](batch)
    loss = score_function_loss(log_probs, weights, mask)
    (grad,) = torch.autograd.grad(loss, copies)
    return (-grad * m).numpy()


def ppo_second_epoch(
    mdp: FiniteMDP, logits: Any, trajectories: Trajectories, step_size: float = PPO_STEP_SIZE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PPO's gradient after its first epoch, per trajectory, and the exact gradient it aims at.

    The first epoch takes one full-batch step on the clipped surrogate at ratio 1, where its
    gradient is the score-function estimator with Psi_t the exact-value-baseline advantages
    (``value_baseline``): logits' = logits + step_size * g_hat. The second epoch reuses the
    same trajectories and advantages: its gradient is that of
    :func:`pgrad.losses.clipped_surrogate_loss` at logits', scaled by T to the trajectory-sum
    convention of the other estimators. It is compared with the exact grad J(logits').

    Returns:
        (g_i [m, S, A], grad J at logits' [S, A], logits' [S, A]).
    """
    first = per_trajectory_gradients(mdp, logits, trajectories, "value_baseline").mean(axis=0)
    moved = mdp.check_logits(logits) + step_size * first
    m, horizon = trajectories.states.shape
    rewards = torch.from_numpy(trajectories.rewards)
    mask = torch.ones_like(rewards)
    batch = LabBatch(mdp, mdp.check_logits(logits), trajectories, rewards, mask)
    advantages = LAB_ESTIMATORS["value_baseline"](batch)
    states = torch.from_numpy(trajectories.states)
    actions = torch.from_numpy(trajectories.actions)
    rows = torch.arange(m).unsqueeze(1)
    old = torch.log_softmax(torch.tensor(batch.logits), dim=1)[states, actions]
    copies = torch.tensor(moved).expand(m, *moved.shape).clone().requires_grad_(True)
    new = torch.log_softmax(copies, dim=2)[rows, states, actions]
    loss = clipped_surrogate_loss(
        new.reshape(-1), old.reshape(-1), advantages.reshape(-1), mask.reshape(-1), PPO_CLIP
    )
    (grad,) = torch.autograd.grad(loss, copies)
    return (-grad * m * horizon).numpy(), policy_gradient(mdp, moved), moved


ESTIMATORS = (*LAB_ESTIMATORS, "ppo_epoch2")
"""Every estimator the lab measures: the weightings above and PPO's second-epoch gradient."""


def trajectory_gradients(
    mdp: FiniteMDP, logits: Any, trajectories: Trajectories, estimator: str
) -> tuple[np.ndarray, np.ndarray]:
    """(g_i [m, S, A], the exact gradient the estimator aims at [S, A]) for any of ESTIMATORS."""
    if estimator == "ppo_epoch2":
        return ppo_second_epoch(mdp, logits, trajectories)[:2]
    terms = per_trajectory_gradients(mdp, logits, trajectories, estimator)
    return terms, policy_gradient(mdp, logits)


def estimate_gradient(
    mdp: FiniteMDP,
    logits: Any,
    num_trajectories: int,
    estimator: str = "reinforce",
    seed: int = 0,
) -> np.ndarray:
    """The sampled estimate g_hat [S, A] from ``num_trajectories`` trajectories.

    ``estimator="reinforce"`` is THEOREM.md's g_hat (whole-trajectory return);
    ``"reward_to_go"`` weights grad log pi(a_t|s_t) by sum_{t' >= t} gamma^t' r_t'; the others
    are listed in :data:`LAB_ESTIMATORS`; ``"ppo_epoch2"`` is :func:`ppo_second_epoch` (it aims
    at the gradient at the moved logits, not at ``logits``).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator: expected one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    trajectories = sample_trajectories(mdp, logits, num_trajectories, seed)
    return trajectory_gradients(mdp, logits, trajectories, estimator)[0].mean(axis=0)
