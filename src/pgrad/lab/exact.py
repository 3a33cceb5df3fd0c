"""Exact J(theta) and grad J(theta) of a tabular softmax policy on a finite-horizon MDP.

The policy is pi(a|s) = softmax(logits[s])[a], the same at every time step. Everything here is
float64 NumPy and exact up to rounding:

- :func:`expected_return`: J = mu . V_0 by backward dynamic programming,
  V_T = 0,  Q_t(s, a) = R(s, a) + gamma sum_s2 P(s2|s, a) V_{t+1}(s2),
  V_t(s) = sum_a pi(a|s) Q_t(s, a).
- :func:`policy_gradient` with ``method="dp"``: the policy-gradient theorem for a finite horizon,
  dJ/dlogits[s, b] = sum_t gamma^t d_t(s) pi(b|s) (Q_t(s, b) - V_t(s)),
  with d_t the distribution of s_t (d_0 = mu, d_{t+1} = d_t P_pi). The sum over t is folded into
  one matrix product, so the cost is O(T S^2 + S^2 A) time and O(T S + S^2) memory beyond P.
- :func:`policy_gradient` with ``method="enumerate"``: THEOREM.md's step 2 taken literally,
  grad J = sum_tau P(tau) grad log P(tau) R(tau), over every trajectory of nonzero probability,
  with grad log P(tau) = sum_t grad log pi(a_t|s_t) = N_tau(s, a) - N_tau(s) pi(a|s) for visit
  counts N. Refused beyond :data:`ENUMERATION_LIMIT` trajectories.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from pgrad.envs.finite import FiniteMDP

ENUMERATION_LIMIT = 2_000_000
"""Most trajectories (of nonzero probability) that enumeration will sum over."""


@dataclass(frozen=True)
class Values:
    """Time-indexed values of a policy: V [T + 1, S] (V[T] = 0) and Q [T, S, A]."""

    v: np.ndarray
    q: np.ndarray


def values(mdp: FiniteMDP, logits: Any) -> Values:
    """V_t and Q_t of the softmax policy by backward dynamic programming."""
    pi = mdp.policy(logits)
    v = np.zeros((mdp.horizon + 1, mdp.num_states))
    q = np.empty((mdp.horizon, mdp.num_states, mdp.num_actions))
    p_flat = mdp.transitions.reshape(-1, mdp.num_states)  # [S*A, S]
    for t in range(mdp.horizon - 1, -1, -1):
        q[t] = mdp.rewards + mdp.discount * (p_flat @ v[t + 1]).reshape(mdp.rewards.shape)
        v[t] = (pi * q[t]).sum(axis=1)
    return Values(v=v, q=q)


def expected_return(mdp: FiniteMDP, logits: Any) -> float:
    """J(theta) = E[sum_{t<T} gamma^t r_t] for pi = softmax(logits); logits [S, A]."""
    pi = mdp.policy(logits)
    p_pi = np.einsum("sa,sap->sp", pi, mdp.transitions)  # [S, S]
    r_pi = (pi * mdp.rewards).sum(axis=1)  # [S]
    v = np.zeros(mdp.num_states)
    for _ in range(mdp.horizon):
        v = r_pi + mdp.discount * (p_pi @ v)
    return float(mdp.initial @ v)


def state_distributions(mdp: FiniteMDP, logits: Any) -> np.ndarray:
    """d [T, S]: d[t, s] = Pr(s_t = s) under the softmax policy."""
    pi = mdp.policy(logits)
    p_pi = np.einsum("sa,sap->sp", pi, mdp.transitions)
    d = np.empty((mdp.horizon, mdp.num_states))
    d[0] = mdp.initial
    for t in range(1, mdp.horizon):
        d[t] = d[t - 1] @ p_pi
    return d


def policy_gradient(
    mdp: FiniteMDP, logits: Any, method: Literal["dp", "enumerate"] = "dp"
) -> np.ndarray:
    """Exact grad J with respect to the logits, float [S, A].

    Args:
        mdp: the finite MDP.
        logits: float [S, A], NumPy or torch.
        method: ``"dp"`` (polynomial time) or ``"enumerate"`` (sum over all trajectories).

    Raises:
        ValueError: bad logits or method; enumeration beyond :data:`ENUMERATION_LIMIT`.
    """
    if method == "dp":
        return _gradient_dp(mdp, logits)
    if method == "enumerate":
        return enumerate_trajectories(mdp, logits).gradient()
    raise ValueError(f"method: expected 'dp' or 'enumerate', got {method!r}")


def _gradient_dp(mdp: FiniteMDP, logits: Any) -> np.ndarray:
    pi = mdp.policy(logits)
    p_pi = np.einsum("sa,sap->sp", pi, mdp.transitions)
    r_pi = (pi * mdp.rewards).sum(axis=1)
    horizon, gamma = mdp.horizon, mdp.discount
    v = np.zeros((horizon + 1, mdp.num_states))  # backward: V_t
    for t in range(horizon - 1, -1, -1):
        v[t] = r_pi + gamma * (p_pi @ v[t + 1])
    w = np.empty((horizon, mdp.num_states))  # forward: w_t = gamma^t d_t
    w[0] = mdp.initial
    for t in range(1, horizon):
        w[t] = gamma * (w[t - 1] @ p_pi)
    # sum_t w_t(s) Q_t(s, a) = (sum_t w_t(s)) R(s, a) + gamma sum_s2 P(s2|s, a) M(s, s2),
    # where M(s, s2) = sum_t w_t(s) V_{t+1}(s2).
    m = w.T @ v[1:]  # [S, S]
    weighted_q = w.sum(axis=0)[:, None] * mdp.rewards
    weighted_q += gamma * np.einsum("sap,sp->sa", mdp.transitions, m)
    baseline = (pi * weighted_q).sum(axis=1, keepdims=True)  # sum_t w_t(s) V_t(s)
    return pi * (weighted_q - baseline)


@dataclass(frozen=True)
class Enumeration:
    """Every trajectory of nonzero probability: probabilities, returns and visit counts.

    Attributes:
        probabilities: float [K], P(tau_k); they sum to 1.
        returns: float [K], R(tau_k).
        counts: int [K, S, A], N_k(s, a): how often trajectory k took a in s.
        policy: float [S, A], the softmax policy the probabilities are under.
    """

    probabilities: np.ndarray
    returns: np.ndarray
    counts: np.ndarray
    policy: np.ndarray

    def scores(self) -> np.ndarray:
        """grad log P(tau_k) [K, S, A] = N_k(s, a) - N_k(s) pi(a|s)."""
        visits = self.counts.sum(axis=2, keepdims=True)
        return self.counts - visits * self.policy[None]

    def gradient(self) -> np.ndarray:
        """sum_k P(tau_k) grad log P(tau_k) R(tau_k), float [S, A]."""
        weights = self.probabilities * self.returns
        return np.einsum("k,ksa->sa", weights, self.scores())


def count_trajectories(mdp: FiniteMDP) -> int:
    """Number of trajectories of nonzero probability (every action has pi > 0 under softmax)."""
    reachable = (mdp.transitions > 0).sum(axis=1).astype(np.float64)  # [S, S]: a with s -> s2
    paths = (mdp.initial > 0).astype(np.float64)
    for _ in range(mdp.horizon):
        paths = paths @ reachable
        if paths.sum() > ENUMERATION_LIMIT:  # stop early: floats stay exact below 2**53
            break
    return int(paths.sum())


def enumerate_trajectories(mdp: FiniteMDP, logits: Any) -> Enumeration:
    """List every trajectory of nonzero probability under the softmax policy.

    Raises:
        ValueError: more than :data:`ENUMERATION_LIMIT` trajectories (checked before any work).
    """
    pi = mdp.policy(logits)
    total = count_trajectories(mdp)
    if total > ENUMERATION_LIMIT:
        raise ValueError(
            f"mdp: enumeration would sum over more than {ENUMERATION_LIMIT:,} trajectories "
            f"(S={mdp.num_states}, A={mdp.num_actions}, T={mdp.horizon}); use method='dp'"
        )
    s_count, a_count = mdp.num_states, mdp.num_actions
    triples = np.argwhere(mdp.transitions > 0)  # rows (s, a, s2), sorted by s
    per_state = np.bincount(triples[:, 0], minlength=s_count)
    first = np.concatenate([[0], np.cumsum(per_state)[:-1]])

    state = np.flatnonzero(mdp.initial > 0)
    prob = mdp.initial[state]
    ret = np.zeros(state.shape[0])
    counts = np.zeros((state.shape[0], s_count * a_count), np.int32)
    for t in range(mdp.horizon):
        fan = per_state[state]
        parent = np.repeat(np.arange(state.shape[0]), fan)
        offset = np.arange(parent.shape[0]) - np.repeat(np.cumsum(fan) - fan, fan)
        row = triples[first[state[parent]] + offset]
        s, a, s2 = row[:, 0], row[:, 1], row[:, 2]
        prob = prob[parent] * pi[s, a] * mdp.transitions[s, a, s2]
        ret = ret[parent] + mdp.discount**t * mdp.rewards[s, a]
        counts = counts[parent]
        counts[np.arange(parent.shape[0]), s * a_count + a] += 1
        state = s2
    return Enumeration(prob, ret, counts.reshape(-1, s_count, a_count), pi)
