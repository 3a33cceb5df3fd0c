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
from pgrad.lab.exact import policy_gradient
from pgrad.lab.fisher import visit_counts
from pgrad.lab.sampling import sample_trajectories, trajectory_gradients
from pgrad.policies.heads.categorical import CategoricalHead


def cg_direction(mdp: FiniteMDP, logits: Any, gradient: np.ndarray, weights: np.ndarray, *,
                 damping: float, iters: int) -> np.ndarray:  # fmt: skip
    """x ~= (F_w + damping I)^-1 gradient by ``iters`` conjugate-gradient steps, float [S, A];
    F_w the Hessian of the w-weighted KL above (autograd, float64)."""
    head = CategoricalHead(mdp.num_actions)
    theta = torch.nn.Parameter(torch.tensor(np.asarray(logits, np.float64)))
    old = head.distribution(theta).detach()
    w = torch.tensor(weights, dtype=torch.float64)

    def kl() -> torch.Tensor:
        return (w * head.kl(old, head.distribution(theta))).sum()

    product = fisher_vector_product(kl, [theta], damping=damping)
    b = torch.tensor(gradient, dtype=torch.float64).reshape(-1)
    return conjugate_gradient(product, b, iters=iters, tol=0.0).reshape(theta.shape).numpy()


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
