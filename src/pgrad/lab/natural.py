"""The natural-gradient algorithms' maths on a finite MDP: conjugate gradient on autograd
Fisher-vector products of the tabular softmax policy, exact or from sampled trajectories.

The Fisher-vector products are those NPG and TRPO train with (:mod:`pgrad.algos.natural`): the
double backward of a KL divergence from a frozen copy of the policy, here weighted per state,

    KL(theta) = sum_s w(s) KL(pi_old(s) || pi_theta(s)),

with the categorical head's closed-form KL. With w(s) = N(s), the expected visits, its Hessian
is the exact Fisher information (:func:`pgrad.exact.fisher_information`); with w(s) the visits
of m sampled trajectories divided by m it is the Fisher the algorithms estimate from a batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pgrad.algos.natural import conjugate_gradient, fisher_vector_product
from pgrad.envs.finite import FiniteMDP
from pgrad.lab.exact import expected_return, policy_gradient
from pgrad.lab.fisher import fisher_information, natural_gradient, visit_counts
from pgrad.lab.sampling import (
    Trajectories,
    lab_weights,
    recipe_of,
    sample_trajectories,
    trajectory_gradients,
)
from pgrad.policies.heads.categorical import CategoricalHead


def cg_direction(mdp: FiniteMDP, logits: Any, gradient: np.ndarray, weights: np.ndarray, *,
                 damping: float, iters: int) -> np.ndarray:  # fmt: skip
    """x ~= (F_w + damping I)^-1 gradient by ``iters`` conjugate-gradient steps, float [S, A];
    F_w the Hessian of the w-weighted KL above (autograd, float64)."""
    return solve(mdp, logits, gradient, weights, damping=damping, iters=iters)[0]


def solve(mdp: FiniteMDP, logits: Any, gradient: np.ndarray, weights: np.ndarray, *,
          damping: float, iters: int) -> tuple[np.ndarray, float]:  # fmt: skip
    """(:func:`cg_direction`'s x, x^T (F_w + damping I) x): the direction and its quadratic KL
    model, which sets the step sqrt(2 max_kl / x^T (F_w + damping I) x) as NPG takes it."""
    head = CategoricalHead(mdp.num_actions)
    theta = torch.nn.Parameter(torch.tensor(np.asarray(logits, np.float64)))
    old = head.distribution(theta).detach()
    w = torch.tensor(weights, dtype=torch.float64)

    def kl() -> torch.Tensor:
        return (w * head.kl(old, head.distribution(theta))).sum()

    product = fisher_vector_product(kl, [theta], damping=damping)
    b = torch.tensor(gradient, dtype=torch.float64).reshape(-1)
    x = conjugate_gradient(product, b, iters=iters, tol=0.0)
    return x.reshape(theta.shape).detach().numpy(), float(x @ product(x))


def exact_cg_direction(mdp: FiniteMDP, logits: Any, *, damping: float,
                       iters: int) -> np.ndarray:  # fmt: skip
    """The CG direction from the exact gradient and the exact visit weights N(s)."""
    return cg_direction(mdp, logits, policy_gradient(mdp, logits), visit_counts(mdp, logits),
                        damping=damping, iters=iters)  # fmt: skip


def sampled_cg_direction(
    mdp: FiniteMDP, logits: Any, m: int, seed: int, *, damping: float, iters: int,
    estimator: str = "reward_to_go+mean",
) -> np.ndarray:  # fmt: skip
    """The CG direction from m sampled trajectories: the estimator's g_hat and the visits of the
    sampled states, each divided by m (what NPG computes from a batch)."""
    trajectories = sample_trajectories(mdp, logits, m, seed)
    g_hat = trajectory_gradients(mdp, logits, trajectories, estimator, "approximate")[0].mean(0)
    visits = np.bincount(trajectories.states.reshape(-1), minlength=mdp.num_states) / m
    return cg_direction(mdp, logits, g_hat, visits, damping=damping, iters=iters)


def weighted_kl(mdp: FiniteMDP, old: np.ndarray, new: np.ndarray, weights: np.ndarray) -> float:
    """sum_s w(s) KL(softmax(old[s]) || softmax(new[s]))."""
    p, q = mdp.policy(old), mdp.policy(new)
    return float((weights * (p * (np.log(p) - np.log(q))).sum(axis=1)).sum())


def natural_ascent_curves(mdp: FiniteMDP, *, steps: int, max_kl: float, damping: float, m: int,
                          seed: int, runs: int, estimator: str = "reward_to_go+mean",
                          cg_iters: int = 10) -> dict[str, list[float]]:  # fmt: skip
    """Exact J along ascent from uniform logits, every step of KL size ``max_kl``: along the
    exact gradient and the exact (damped) natural gradient, and NPG's and TRPO's sampled
    updates from m trajectories (each the mean of ``runs`` runs)."""
    shape = (mdp.num_states, mdp.num_actions)
    curves: dict[str, list[float]] = {}
    for name in ("gradient", "natural gradient"):
        logits, curve = np.zeros(shape), [expected_return(mdp, np.zeros(shape))]
        for _ in range(steps):
            f = fisher_information(mdp, logits)
            d = policy_gradient(mdp, logits)
            if name == "natural gradient":
                d = natural_gradient(mdp, logits, damping=damping)
            quad = float(d.reshape(-1) @ f @ d.reshape(-1))
            logits = logits + np.sqrt(2 * max_kl / max(quad, 1e-20)) * d
            curve.append(expected_return(mdp, logits))
        curves[f"exact {name}"] = curve
    for algo in ("npg", "trpo"):
        total = np.zeros(steps + 1)
        for run in range(runs):
            logits = np.zeros(shape)
            total[0] += expected_return(mdp, logits)
            for step in range(steps):
                draws = sample_trajectories(mdp, logits, m, seed + 1_000_003 * run + step)
                logits = sampled_update(mdp, logits, draws, algo == "trpo", max_kl=max_kl,
                                        damping=damping, estimator=estimator,
                                        cg_iters=cg_iters)  # fmt: skip
                total[step + 1] += expected_return(mdp, logits)
        curves[f"{algo} (m={m})"] = (total / runs).tolist()
    return curves


def sampled_update(mdp: FiniteMDP, logits: np.ndarray, draws: Trajectories, line_search: bool,
                   *, max_kl: float, damping: float, estimator: str,
                   cg_iters: int) -> np.ndarray:  # fmt: skip
    """The logits after one NPG (or, with ``line_search``, TRPO) update from ``draws``: the CG
    direction of the sampled g_hat and visits, a step of quadratic KL size max_kl, and TRPO's
    backtracking (factor 0.8, 10 tries) on the sampled KL and importance-sampled surrogate."""
    m = draws.states.shape[0]
    g_hat = trajectory_gradients(mdp, logits, draws, estimator, "approximate")[0].mean(0)
    visits = np.bincount(draws.states.reshape(-1), minlength=mdp.num_states) / m
    x, quad = solve(mdp, logits, g_hat, visits, damping=damping, iters=cg_iters)
    full = np.sqrt(2 * max_kl / max(quad, 1e-20)) * x
    if not line_search:
        return logits + full
    psi = lab_weights(mdp, logits, draws, recipe_of(estimator)).numpy()

    def surrogate(new: np.ndarray) -> float:
        ratio = mdp.policy(new)[draws.states, draws.actions] / mdp.policy(logits)[
            draws.states, draws.actions]
        return float((ratio * psi).sum(axis=1).mean())

    before = surrogate(logits)
    for j in range(10):
        new = logits + 0.8**j * full
        if weighted_kl(mdp, logits, new, visits) <= max_kl and surrogate(new) > before:
            return new
    return logits
