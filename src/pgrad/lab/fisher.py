"""Exact Fisher information and natural gradient of a tabular softmax policy on a finite MDP.

The Fisher information of the trajectory distribution, summed over steps and undiscounted,

    F = E_tau[ sum_{t<T} grad log pi(a_t|s_t) grad log pi(a_t|s_t)^T ],

is block-diagonal for a tabular softmax: grad log pi(a|s) with respect to logits[s, :] is
e_a - pi(s), non-zero in state s's block only, so (with N(s) = sum_{t<T} d_t(s) the expected
number of visits to s)

    F_s = N(s) (diag(pi(s)) - pi(s) pi(s)^T),          index s*A + a (row-major logits).

It is also the Hessian, at theta_old, of the visit-weighted KL divergence
KL(theta) = sum_s N_old(s) KL(pi_old(s) || pi_theta(s)), the quantity TRPO constrains.

The natural gradient. The exact gradient is dJ/dlogits[s, a] = pi(a|s) W(s, a) with
W(s, a) = sum_t gamma^t d_t(s) (Q_t(s, a) - V_t(s)) (:mod:`pgrad.lab.exact`), and
sum_a pi(a|s) W(s, a) = 0. Each block's null space is the constant vector (softmax is unchanged
by adding a constant to a state's logits), so F_s x = pi(s) * W(s) holds exactly when
x(a) = W(s, a) / N(s) + c_s for any per-state shift c_s. The minimum-norm solution pinv(F) grad J
takes the shift that centres it:

    natural_gradient(s, a) = A_bar(s, a) - mean_a A_bar(s, a),
    A_bar(s, a) = sum_t gamma^t d_t(s) A_t(s, a) / sum_t d_t(s),

the advantage averaged over the visits to s (discounted by gamma^t in the numerator only); for
gamma = 1 and a time-independent advantage it is the advantage function itself, up to the
per-state shift. States never visited (N(s) = 0) get 0. With damping d > 0 the direction is
(F + d I)^-1 grad J, which has no such closed form and is solved per block.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pgrad.envs.finite import FiniteMDP
from pgrad.lab.exact import policy_gradient, state_distributions, values


def visit_counts(mdp: FiniteMDP, logits: Any) -> np.ndarray:
    """N [S]: the expected number of visits to each state in the T steps, sum_t d_t(s)."""
    return state_distributions(mdp, logits).sum(axis=0)  # type: ignore[no-any-return]


def fisher_blocks(mdp: FiniteMDP, logits: Any) -> np.ndarray:
    """The diagonal blocks of F, float [S, A, A]: F_s = N(s) (diag(pi(s)) - pi(s) pi(s)^T)."""
    pi = mdp.policy(logits)
    n = visit_counts(mdp, logits)
    eye = np.eye(mdp.num_actions)
    return n[:, None, None] * (pi[:, :, None] * eye - pi[:, :, None] * pi[:, None, :])


def fisher_information(mdp: FiniteMDP, logits: Any) -> np.ndarray:
    """The exact F, float [S*A, S*A], indexed s*A + a: block-diagonal, one block per state."""
    blocks = fisher_blocks(mdp, logits)
    s, a = mdp.num_states, mdp.num_actions
    f = np.zeros((s, a, s, a))
    f[np.arange(s), :, np.arange(s), :] = blocks
    return f.reshape(s * a, s * a)


def natural_gradient(mdp: FiniteMDP, logits: Any, damping: float = 0.0) -> np.ndarray:
    """The exact natural gradient, float [S, A]: pinv(F) @ grad J (``damping=0``, the
    minimum-norm solution) or (F + damping I)^-1 @ grad J.

    Raises:
        ValueError: bad logits, or a damping that is negative or not finite.
    """
    if not (isinstance(damping, int | float) and np.isfinite(damping) and damping >= 0):
        raise ValueError(f"damping: expected a finite number >= 0, got {damping!r}")
    g = policy_gradient(mdp, logits)
    if damping == 0:
        return advantage_form(mdp, logits)
    blocks = fisher_blocks(mdp, logits) + damping * np.eye(mdp.num_actions)
    return np.linalg.solve(blocks, g[:, :, None])[:, :, 0]  # type: ignore[no-any-return]


def advantage_form(mdp: FiniteMDP, logits: Any) -> np.ndarray:
    """pinv(F) grad J in closed form, float [S, A]: A_bar(s) - mean_a A_bar(s) (module doc)."""
    d = state_distributions(mdp, logits)  # [T, S]
    vq = values(mdp, logits)
    discount = mdp.discount ** np.arange(mdp.horizon)
    weighted = discount[:, None, None] * d[:, :, None] * (vq.q - vq.v[:-1, :, None])  # [T, S, A]
    n = d.sum(axis=0)
    a_bar = np.divide(weighted.sum(axis=0), n[:, None], out=np.zeros_like(vq.q[0]),
                      where=n[:, None] > 0)  # fmt: skip
    return a_bar - a_bar.mean(axis=1, keepdims=True)  # type: ignore[no-any-return]


def pinv_natural_gradient(mdp: FiniteMDP, logits: Any) -> np.ndarray:
    """pinv(F) @ grad J by the pseudo-inverse of the whole F, float [S, A] (a check on
    :func:`advantage_form`; O((S A)^3))."""
    g = policy_gradient(mdp, logits).reshape(-1)
    f = fisher_information(mdp, logits)
    return (np.linalg.pinv(f, rcond=1e-12, hermitian=True) @ g).reshape(g.size // mdp.num_actions,
                                                                        mdp.num_actions)
