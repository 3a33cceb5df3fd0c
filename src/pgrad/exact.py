"""Exact policy gradients on finite MDPs, and sampled estimates to hold against them.

>>> from pgrad.exact import FiniteMDP, expected_return, policy_gradient, estimate_gradient
>>> mdp = FiniteMDP(initial=mu, transitions=P, rewards=R, horizon=T, discount=gamma)
>>> J = expected_return(mdp, logits)                          # J(theta), logits [S, A]
>>> g = policy_gradient(mdp, logits, method="dp")              # exact grad J, [S, A]
>>> g_enum = policy_gradient(mdp, logits, method="enumerate")  # sum over all trajectories
>>> g_hat = estimate_gradient(mdp, logits, num_trajectories=1000, estimator="reinforce", seed=0)
>>> F = fisher_information(mdp, logits)                    # [S*A, S*A], index s*A + a
>>> ng = natural_gradient(mdp, logits)                     # pinv(F) grad J, [S, A]
>>> ng_d = natural_gradient(mdp, logits, damping=0.1)      # (F + 0.1 I)^-1 grad J

Arrays: ``mu`` [S]; ``P`` [S, A, S] with ``P[s, a, s2] = Pr(s2 | s, a)``; ``R`` [S, A]; horizon
``T >= 1`` decisions; ``gamma`` in (0, 1]. The policy is ``softmax(logits[s])``. A trajectory:
s_0 ~ mu; for t < T: a_t ~ pi(.|s_t), r_t = R[s_t, a_t], s_{t+1} ~ P[s_t, a_t]; its return is
R(tau) = sum_t gamma^t r_t. Bad inputs raise ``ValueError`` naming the argument.

Estimators are Psi recipes, named as ``pgrad train`` names them (:mod:`pgrad.estimators.psi`):
``"reinforce"`` (alias of ``"return"``), the theorem's g_hat with the whole-trajectory return;
``"reward_to_go"``, Psi_t = sum_{t' >= t} gamma^t' r_t'; ``"reward_to_go+mean"``, ``pgrad
train``'s default; ``"gae+lambda=0.9"``; and so on.
"""

from pgrad.envs.finite import NAMED_MDPS, FiniteMDP, FiniteMDPEnv, named_mdp
from pgrad.lab.exact import (
    ENUMERATION_LIMIT,
    enumerate_trajectories,
    expected_return,
    policy_gradient,
    state_distributions,
    values,
)
from pgrad.lab.fisher import fisher_information, natural_gradient, visit_counts
from pgrad.lab.io import load_mdp, save_mdp
from pgrad.lab.sampling import estimate_gradient, per_trajectory_gradients, sample_trajectories

__all__ = [
    "ENUMERATION_LIMIT",
    "NAMED_MDPS",
    "FiniteMDP",
    "FiniteMDPEnv",
    "enumerate_trajectories",
    "estimate_gradient",
    "expected_return",
    "fisher_information",
    "load_mdp",
    "named_mdp",
    "natural_gradient",
    "per_trajectory_gradients",
    "policy_gradient",
    "sample_trajectories",
    "save_mdp",
    "state_distributions",
    "values",
    "visit_counts",
]
