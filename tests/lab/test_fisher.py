"""The exact Fisher information and natural gradient of a tabular softmax policy: against a
Monte-Carlo estimate, the Hessian of the exact KL divergence, the pseudo-inverse of the whole F
and the closed (advantage) form."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pgrad.exact import (
    NAMED_MDPS,
    FiniteMDP,
    fisher_information,
    named_mdp,
    natural_gradient,
    policy_gradient,
    sample_trajectories,
    state_distributions,
    values,
    visit_counts,
)
from pgrad.lab.fisher import pinv_natural_gradient


def random_mdp(rng: np.random.Generator) -> FiniteMDP:
    s, a, t = int(rng.integers(1, 5)), int(rng.integers(2, 4)), int(rng.integers(1, 5))
    transitions = rng.random((s, a, s)) * (rng.random((s, a, s)) < 0.6)
    transitions[..., 0] += 1e-3 * (transitions.sum(axis=2) == 0)
    transitions /= transitions.sum(axis=2, keepdims=True)
    initial = rng.random(s) * (rng.random(s) < 0.7)  # some states may never be visited
    initial[0] += 1e-3
    return FiniteMDP(initial / initial.sum(), transitions, rng.normal(size=(s, a)), t,
                     float(rng.uniform(0.5, 1.0)))  # fmt: skip


CASES = [(name, named_mdp(name)) for name in NAMED_MDPS] + [
    (f"random-{i}", random_mdp(np.random.default_rng(i))) for i in range(6)
]


def logits_for(mdp: FiniteMDP, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(mdp.num_states, mdp.num_actions))


@pytest.mark.parametrize(("name", "mdp"), CASES, ids=[c[0] for c in CASES])
def test_the_natural_gradient_solves_f_x_equals_grad_j_with_minimum_norm(name, mdp) -> None:
    z = logits_for(mdp)
    f, g = fisher_information(mdp, z), policy_gradient(mdp, z).reshape(-1)
    ng = natural_gradient(mdp, z)
    assert np.allclose(f @ ng.reshape(-1), g, atol=1e-12)
    assert np.allclose(ng, pinv_natural_gradient(mdp, z), atol=1e-10)
    assert np.allclose(ng.sum(axis=1), 0, atol=1e-12)  # no component along a state's shift
    assert np.allclose(f, f.T) and np.linalg.eigvalsh(f).min() > -1e-12


@pytest.mark.parametrize(("name", "mdp"), CASES, ids=[c[0] for c in CASES])
def test_the_natural_gradient_is_the_visit_averaged_advantage(name, mdp) -> None:
    z = logits_for(mdp, 1)
    v = values(mdp, z)
    d = state_distributions(mdp, z)
    gamma_t = mdp.discount ** np.arange(mdp.horizon)
    advantage = v.q - v.v[:-1, :, None]  # A_t(s, a), [T, S, A]
    n = d.sum(axis=0)
    visited = n > 0
    a_bar = (gamma_t[:, None, None] * d[:, :, None] * advantage).sum(axis=0)[visited]
    a_bar /= n[visited, None]
    expected = a_bar - a_bar.mean(axis=1, keepdims=True)
    ng = natural_gradient(mdp, z)
    assert np.allclose(ng[visited], expected, atol=1e-12)
    assert np.all(ng[~visited] == 0)


def test_on_a_bandit_the_natural_gradient_is_the_centred_reward() -> None:
    mdp = named_mdp("bandit")  # one state, one step: A(a) = r(a) - V, the shift is free
    z = logits_for(mdp, 2)
    r = mdp.rewards[0]
    assert np.allclose(natural_gradient(mdp, z)[0], r - r.mean(), atol=1e-12)


@pytest.mark.parametrize("name", ["chain", "gridworld"])
def test_f_matches_a_monte_carlo_estimate_within_its_standard_error(name: str) -> None:
    mdp = named_mdp(name)
    z = 0.5 * logits_for(mdp, 3)
    m = 4000
    tr = sample_trajectories(mdp, z, m, seed=7)
    pi = mdp.policy(z)
    s_count, a_count = mdp.num_states, mdp.num_actions
    score = np.zeros((m, mdp.horizon, s_count, a_count))  # grad log pi(a_t|s_t) per step
    i, t = np.meshgrid(np.arange(m), np.arange(mdp.horizon), indexing="ij")
    score[i, t, tr.states] -= pi[tr.states]
    score[i, t, tr.states, tr.actions] += 1.0
    flat = score.reshape(m, mdp.horizon, -1)
    per_trajectory = np.einsum("mti,mtj->mij", flat, flat)  # sum_t outer products
    mean = per_trajectory.mean(axis=0)
    se = per_trajectory.std(axis=0, ddof=1) / np.sqrt(m)
    exact = fisher_information(mdp, z)
    z_scores = np.abs(mean - exact) / np.maximum(se, 1e-12)
    assert np.all((z_scores < 5) | (np.abs(mean - exact) < 1e-12))
    assert np.abs(mean - exact).max() > 0  # it is an estimate, not the same computation


@pytest.mark.parametrize(("name", "mdp"), CASES[:5], ids=[c[0] for c in CASES[:5]])
def test_f_is_the_hessian_of_the_exact_visit_weighted_kl(name, mdp) -> None:
    z = logits_for(mdp, 4)
    n = torch.tensor(visit_counts(mdp, z))
    old = torch.tensor(mdp.policy(z))

    def kl(flat: torch.Tensor) -> torch.Tensor:
        log_new = torch.log_softmax(flat.reshape(z.shape), dim=1)
        return (n * (old * (old.log() - log_new)).sum(dim=1)).sum()

    hessian = torch.autograd.functional.hessian(kl, torch.tensor(z).reshape(-1))
    assert np.allclose(hessian.numpy(), fisher_information(mdp, z), atol=1e-10)


@pytest.mark.parametrize(("name", "mdp"), CASES, ids=[c[0] for c in CASES])
def test_damping_solves_the_regularised_system_and_tends_to_the_minimum_norm_one(name, mdp):
    z = logits_for(mdp, 5)
    f, g = fisher_information(mdp, z), policy_gradient(mdp, z).reshape(-1)
    for damping in (1e-3, 0.1, 10.0):
        expected = np.linalg.solve(f + damping * np.eye(f.shape[0]), g)
        assert np.allclose(natural_gradient(mdp, z, damping=damping).reshape(-1), expected,
                           atol=1e-10)  # fmt: skip
    assert np.allclose(natural_gradient(mdp, z, damping=1e-9), natural_gradient(mdp, z),
                       atol=1e-5)  # fmt: skip


@pytest.mark.parametrize("damping", [-1.0, float("nan"), float("inf"), "0.1"])
def test_bad_damping_is_refused(damping) -> None:
    mdp = named_mdp("chain")
    with pytest.raises(ValueError, match="damping"):
        natural_gradient(mdp, logits_for(mdp), damping=damping)
