"""Sampled estimators against the exact gradient: unbiased within their own standard error,
error shrinking like 1/sqrt(m), and reward-to-go lowering the variance.

Fixed seeds throughout. A component's tolerance is 5 standard errors of the mean, estimated from
the same samples; with a few dozen components per MDP a correct estimator exceeds it with
probability below 1e-4.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import pgrad
from pgrad.algos import reinforce
from pgrad.envs.make import make_vector_env
from pgrad.exact import (
    NAMED_MDPS,
    estimate_gradient,
    per_trajectory_gradients,
    policy_gradient,
    sample_trajectories,
)
from pgrad.lab.sampling import ppo_second_epoch
from pgrad.lab.study import fit_slope
from pgrad.policies.mlp import PolicySpec, build_policy
from pgrad.rollout.episodes import EpisodeSampler

ESTIMATORS = ["reinforce", "reward_to_go"]
UNBIASED = ["return", "reward_to_go", "return+mean", "reward_to_go+mean", "reward_to_go+value"]


def _logits(name: str, seed: int = 0) -> np.ndarray:
    mdp = NAMED_MDPS[name]()
    return np.random.default_rng(seed).normal(size=(mdp.num_states, mdp.num_actions))


def _z_scores(samples: np.ndarray, exact: np.ndarray) -> np.ndarray:
    standard_error = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])
    deviation = samples.mean(axis=0) - exact
    degenerate = standard_error == 0  # components no trajectory touches: exactly zero
    assert np.abs(deviation[degenerate]).max(initial=0.0) < 1e-12
    return np.abs(deviation[~degenerate]) / standard_error[~degenerate]


@pytest.mark.parametrize("estimator", UNBIASED)
@pytest.mark.parametrize("name", sorted(NAMED_MDPS))
def test_mean_estimate_matches_the_exact_gradient(name: str, estimator: str) -> None:
    mdp, logits = NAMED_MDPS[name](), _logits(name)
    samples = per_trajectory_gradients(
        mdp, logits, sample_trajectories(mdp, logits, 20_000, 1), estimator
    )
    assert _z_scores(samples, policy_gradient(mdp, logits)).max() < 5


def test_estimate_gradient_is_the_mean_of_the_trajectory_terms_and_reproducible() -> None:
    mdp, logits = NAMED_MDPS["chain"](), _logits("chain")
    g = estimate_gradient(mdp, logits, num_trajectories=500, estimator="reinforce", seed=3)
    again = estimate_gradient(mdp, logits, num_trajectories=500, estimator="reinforce", seed=3)
    terms = per_trajectory_gradients(mdp, logits, sample_trajectories(mdp, logits, 500, 3))
    np.testing.assert_array_equal(g, again)
    np.testing.assert_allclose(g, terms.mean(axis=0), atol=1e-12)
    with pytest.raises(ValueError, match="estimator"):
        estimate_gradient(mdp, logits, 10, estimator="magic")


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_error_shrinks_like_one_over_sqrt_m(estimator: str) -> None:
    # RMSE over 60 batches per m; the fitted log-log slope has a standard error near 0.03 here,
    # so +-0.1 is about 3 of them.
    mdp, logits = NAMED_MDPS["gridworld"](), _logits("gridworld")
    exact = policy_gradient(mdp, logits)
    ms = [25, 100, 400, 1600]
    rmse = []
    for m in ms:
        estimates = [
            estimate_gradient(mdp, logits, m, estimator, seed=10_000 * m + k) for k in range(60)
        ]
        errors = [np.sum((g - exact) ** 2) for g in estimates]
        rmse.append(float(np.sqrt(np.mean(errors))))
    assert abs(fit_slope(ms, rmse) + 0.5) < 0.1


@pytest.mark.parametrize("name", ["chain", "gridworld"])
def test_reward_to_go_has_lower_variance(name: str) -> None:
    mdp, logits = NAMED_MDPS[name](), _logits(name)
    trajectories = sample_trajectories(mdp, logits, 20_000, 2)
    variance = {
        e: per_trajectory_gradients(mdp, logits, trajectories, e).var(axis=0).sum()
        for e in ESTIMATORS
    }
    # Relative standard error of each trace is about 1-2% at this sample size.
    assert variance["reward_to_go"] < 0.9 * variance["reinforce"]


@pytest.mark.parametrize(
    ("psi", "baseline"), [("return", "none"), ("reward_to_go", "mean")],
    ids=["seed-formula", "default"],
)  # fmt: skip
def test_the_trainers_own_gradient_matches_the_exact_one(psi: str, baseline: str) -> None:
    """The normal sampler and REINFORCE loss on the Gymnasium form of a finite MDP.

    A linear policy on one-hot observations is a tabular softmax with logits[s] = W[:, s] + b,
    and d loss / d W[:, s] = d loss / d logits[s], so W's gradient is the trainer's g_hat.
    """
    mdp, m = NAMED_MDPS["chain"](), 4000
    envs, info = make_vector_env("pgrad/Chain-v0", num_envs=16)
    policy = build_policy(PolicySpec(info, (), "tanh"), seed=0)
    with torch.no_grad():
        policy.net[0].weight.copy_(torch.from_numpy(_logits("chain").T))
        policy.net[0].bias.zero_()
    logits = (policy.net[0].weight.T + policy.net[0].bias).detach().double().numpy()
    sampler = EpisodeSampler(envs, m, seed=5)
    batch = sampler.collect(policy)
    sampler.close()
    assert (batch.episode_lengths == mdp.horizon).all() and batch.terminated[:, -1].all()
    # The seed's g_hat (Psi_t = R(tau)), and pgrad train's default weighting.
    cfg = pgrad.make_config(algo="reinforce", gamma=mdp.discount, psi=psi, baseline=baseline)
    loss, _ = reinforce.loss(policy, batch, cfg)
    loss.backward()
    trainer_gradient = -policy.net[0].weight.grad.T.double().numpy()
    # Standard errors for a mean of m trajectory terms, from the lab's independent samples.
    draws = sample_trajectories(mdp, logits, 50_000, 9)
    terms = per_trajectory_gradients(mdp, logits, draws, cfg.recipe.name)  # the same recipe
    standard_error = terms.std(axis=0, ddof=1) / np.sqrt(m)
    z = np.abs(trainer_gradient - policy_gradient(mdp, logits)) / standard_error
    assert z.max() < 5, z


def test_ppo_first_epoch_is_the_score_function_estimator_and_the_second_is_biased() -> None:
    mdp, logits = NAMED_MDPS["chain"](), _logits("chain")
    trajectories = sample_trajectories(mdp, logits, 2000, 6)
    # With no first step the ratio is 1: PPO's gradient is the value-baseline estimator.
    still, target, moved = ppo_second_epoch(mdp, logits, trajectories, step_size=0.0)
    expected = per_trajectory_gradients(mdp, logits, trajectories, "reward_to_go+value", "exact")
    np.testing.assert_allclose(still, expected, atol=1e-10)
    np.testing.assert_allclose(moved, logits)
    np.testing.assert_allclose(target, policy_gradient(mdp, logits))
    # After a real first step its estimate of grad J(logits') is biased, and visibly so.
    deviations = []
    for k in range(40):
        draws = sample_trajectories(mdp, logits, 500, 100 + k)
        g, target, _ = ppo_second_epoch(mdp, logits, draws, step_size=1.0)
        deviations.append((g.mean(axis=0) - target).ravel())
    d = np.array(deviations)
    z = np.abs(d.mean(axis=0)) / (d.std(axis=0, ddof=1) / np.sqrt(len(d)) + 1e-12)
    assert z.max() > 5


@pytest.mark.parametrize("estimator", ["return+mean", "reward_to_go+mean"])
def test_mean_baseline_is_unbiased_even_for_tiny_batches(estimator: str) -> None:
    """At m = 2 a batch mean that includes trajectory i would scale E[g_hat] by 1 - 1/m = 0.5;
    the leave-one-out baseline keeps every batch's estimate unbiased."""
    mdp, logits = NAMED_MDPS["chain"](), _logits("chain")
    estimates = np.stack(
        [estimate_gradient(mdp, logits, 2, estimator, seed=k) for k in range(4000)]
    )
    assert _z_scores(estimates, policy_gradient(mdp, logits)).max() < 5
    # and the test can see the bias it guards against: halving the exact gradient fails it
    assert _z_scores(estimates, 0.5 * policy_gradient(mdp, logits)).max() > 5


@pytest.mark.parametrize("lam", [0.0, 0.9, 1.0])
def test_gae_with_the_exact_critic_is_unbiased_and_with_an_approximate_one_biased(
    lam: float,
) -> None:
    """With gamma = 1 (the chain) and the true V_t, E[A_t^GAE | s_t, a_t] = Q_t - V_t for every
    lambda; a time-averaged critic biases it (except at lambda = 1, where V cancels out)."""
    mdp, logits = NAMED_MDPS["chain"](), _logits("chain")
    exact = policy_gradient(mdp, logits)
    draws = sample_trajectories(mdp, logits, 20_000, 4)
    name = f"gae+lambda={lam:g}"
    assert _z_scores(per_trajectory_gradients(mdp, logits, draws, name, "exact"), exact).max() < 5
    approximate = _z_scores(per_trajectory_gradients(mdp, logits, draws, name), exact).max()
    assert approximate < 5 if lam == 1.0 else approximate > 5
