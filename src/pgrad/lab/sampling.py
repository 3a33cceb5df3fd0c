"""Sampled gradient estimates on a finite MDP, through the trainer's own loss function.

Trajectories are drawn in NumPy (all m at once), laid out as the padded [m, T] batch the trainer
uses (every trajectory of a finite MDP has exactly T steps, so the mask is all ones), and the
gradient is autograd through :func:`pgrad.losses.score_function_loss` with the weights Psi_t of
:func:`pgrad.estimators.psi_weights`, named by a Psi recipe (``reward_to_go+mean``): the same
code, and the same vocabulary, that ``pgrad train`` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from pgrad.envs.finite import FiniteMDP
from pgrad.errors import PgradError
from pgrad.estimators.psi import PsiRecipe, parse_recipe, psi_weights
from pgrad.lab.exact import policy_gradient, values
from pgrad.losses.policy import clipped_surrogate_loss, score_function_loss

PPO_ADVANTAGES = "reward_to_go+value"
"""The advantages of the lab's PPO (with the exact critic)."""

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


Critic = Literal["exact", "approximate"]
CRITICS: tuple[str, ...] = ("exact", "approximate")


def critic_values(
    mdp: FiniteMDP, logits: np.ndarray, states: np.ndarray, critic: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(V(s_t), V(s_{t+1})) [m, T] along sampled states [m, T], from the chosen critic.

    ``exact``: the policy's true, time-dependent V_t(s) (the successor of the last step is
    terminal: 0). ``approximate``: a time-averaged V(s) = mean_t V_t(s); a stationary table cannot
    represent a finite horizon's time-dependent values, so it stands for the approximate critic of
    a real agent.
    """
    if critic not in CRITICS:
        raise ValueError(f"critic: expected one of {', '.join(CRITICS)}, got {critic!r}")
    v = values(mdp, logits).v  # [T + 1, S], v[T] = 0
    horizon = mdp.horizon
    if critic == "exact":
        steps = np.arange(horizon)[None, :]
        now = torch.from_numpy(v[steps, states])
        following = torch.zeros_like(now)
        following[:, :-1] = torch.from_numpy(v[steps[:, 1:], states[:, 1:]])
        return now, following
    table = v[:-1].mean(axis=0)
    now = torch.from_numpy(table[states])
    following = torch.zeros_like(now)
    following[:, :-1] = now[:, 1:]  # the last step terminates; its successor is unused
    return now, following


def lab_weights(
    mdp: FiniteMDP,
    logits: np.ndarray,
    trajectories: Trajectories,
    recipe: PsiRecipe,
    critic: str = "approximate",
) -> torch.Tensor:
    """Psi_t [m, T] of ``recipe`` for sampled trajectories: :func:`pgrad.estimators.psi_weights`,
    the function the trainer calls, on the lab's batch (every trajectory lasts T steps and
    terminates after the last)."""
    rewards = torch.from_numpy(trajectories.rewards)
    mask = torch.ones_like(rewards)
    terminated = torch.zeros_like(mask, dtype=torch.bool)
    terminated[:, -1] = True
    now = following = torch.zeros_like(rewards)
    if recipe.needs_values:
        now, following = critic_values(mdp, logits, trajectories.states, critic)
    psi, _ = psi_weights(rewards, mask, terminated, torch.zeros_like(terminated), now, following,
                         recipe=recipe, gamma=mdp.discount)  # fmt: skip
    return psi


def recipe_of(estimator: str) -> PsiRecipe:
    """The :class:`PsiRecipe` an estimator name describes (``ValueError`` if it is none)."""
    try:
        return parse_recipe(estimator)
    except PgradError as exc:
        raise ValueError(f"estimator: {exc}") from None


def per_trajectory_gradients(
    mdp: FiniteMDP,
    logits: Any,
    trajectories: Trajectories,
    estimator: str = "return",
    critic: str = "approximate",
) -> np.ndarray:
    """g_i [m, S, A]: each trajectory's term of g_hat, so that g_hat = mean_i g_i.

    ``estimator`` is a Psi recipe name (:mod:`pgrad.estimators.psi`: ``return``,
    ``reward_to_go+mean``, ``gae+lambda=0.9``, ...). One backward pass through the trainer's loss
    with a private copy of the logits per trajectory: the loss is -(1/m) sum_i (...), so
    d loss / d logits_i = -g_i / m.
    """
    recipe = recipe_of(estimator)
    base = torch.tensor(mdp.check_logits(logits))
    m = trajectories.states.shape[0]
    copies = base.expand(m, *base.shape).clone().requires_grad_(True)  # [m, S, A]
    states = torch.from_numpy(trajectories.states)
    actions = torch.from_numpy(trajectories.actions)
    rows = torch.arange(m).unsqueeze(1)
    log_probs = torch.log_softmax(copies, dim=2)[rows, states, actions]  # [m, T]
    weights = lab_weights(mdp, np.asarray(base), trajectories, recipe, critic)
    loss = score_function_loss(log_probs, weights, torch.ones_like(weights))
    (grad,) = torch.autograd.grad(loss, copies)
    return (-grad * m).numpy()


def ppo_second_epoch(
    mdp: FiniteMDP, logits: Any, trajectories: Trajectories, step_size: float = PPO_STEP_SIZE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PPO's gradient after its first epoch, per trajectory, and the exact gradient it aims at.

    The first epoch takes one full-batch step on the clipped surrogate at ratio 1, where its
    gradient is the score-function estimator with Psi_t the exact-value-baseline advantages
    (``reward_to_go+value`` with the exact critic): logits' = logits + step_size * g_hat. The
    second epoch reuses the
    same trajectories and advantages: its gradient is that of
    :func:`pgrad.losses.clipped_surrogate_loss` at logits', scaled by T to the trajectory-sum
    convention of the other estimators. It is compared with the exact grad J(logits').

    Returns:
        (g_i [m, S, A], grad J at logits' [S, A], logits' [S, A]).
    """
    first = per_trajectory_gradients(mdp, logits, trajectories, PPO_ADVANTAGES, "exact")
    moved = mdp.check_logits(logits) + step_size * first.mean(axis=0)
    m, horizon = trajectories.states.shape
    base = mdp.check_logits(logits)
    advantages = lab_weights(mdp, base, trajectories, parse_recipe(PPO_ADVANTAGES), "exact")
    mask = torch.ones_like(advantages)
    states = torch.from_numpy(trajectories.states)
    actions = torch.from_numpy(trajectories.actions)
    rows = torch.arange(m).unsqueeze(1)
    old = torch.log_softmax(torch.tensor(base), dim=1)[states, actions]
    copies = torch.tensor(moved).expand(m, *moved.shape).clone().requires_grad_(True)
    new = torch.log_softmax(copies, dim=2)[rows, states, actions]
    loss = clipped_surrogate_loss(
        new.reshape(-1), old.reshape(-1), advantages.reshape(-1), mask.reshape(-1), PPO_CLIP
    )
    (grad,) = torch.autograd.grad(loss, copies)
    return (-grad * m * horizon).numpy(), policy_gradient(mdp, moved), moved


PPO_EPOCH2 = "ppo_epoch2"
"""PPO's second-epoch gradient (:func:`ppo_second_epoch`), the lab's one estimator that is not a
Psi recipe."""

ESTIMATORS = (
    "return", "reward_to_go", "return+mean", "reward_to_go+mean", "reward_to_go+value", "gae",
    PPO_EPOCH2,
)  # fmt: skip
"""The estimators ``pgrad lab`` measures by default: Psi recipes (any other recipe name works
too) and PPO's second epoch. ``return`` is the theorem's g_hat; ``reward_to_go+mean`` is
``pgrad train``'s default; ``reward_to_go+value`` and ``gae`` use the lab's critic."""


def check_estimator(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` is a recipe name or ``ppo_epoch2``."""
    if name != PPO_EPOCH2:
        recipe_of(name)


def trajectory_gradients(
    mdp: FiniteMDP, logits: Any, trajectories: Trajectories, estimator: str,
    critic: str = "approximate",
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(g_i [m, S, A], the exact gradient the estimator aims at [S, A]) for any estimator."""
    if estimator == PPO_EPOCH2:
        return ppo_second_epoch(mdp, logits, trajectories)[:2]
    terms = per_trajectory_gradients(mdp, logits, trajectories, estimator, critic)
    return terms, policy_gradient(mdp, logits)


def estimate_gradient(
    mdp: FiniteMDP,
    logits: Any,
    num_trajectories: int,
    estimator: str = "reinforce",
    seed: int = 0,
    critic: str = "approximate",
) -> np.ndarray:
    """The sampled estimate g_hat [S, A] from ``num_trajectories`` trajectories.

    ``estimator`` is a Psi recipe name (:mod:`pgrad.estimators.psi`): ``"reinforce"`` (alias of
    ``"return"``) is the theorem's g_hat (whole-trajectory return); ``"reward_to_go"`` weights
    grad log pi(a_t|s_t) by sum_{t' >= t} gamma^t' r_t'; ``"reward_to_go+mean"`` is
    ``pgrad train``'s default; recipes with a value baseline or gae use ``critic``.
    ``"ppo_epoch2"`` is :func:`ppo_second_epoch` (it aims at the gradient at the moved logits).
    """
    check_estimator(estimator)
    trajectories = sample_trajectories(mdp, logits, num_trajectories, seed)
    return trajectory_gradients(mdp, logits, trajectories, estimator, critic)[0].mean(axis=0)
