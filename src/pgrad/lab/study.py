"""The lab study behind ``pgrad lab``: each estimator measured against the exact gradient.

For every estimator and batch size m, K independent batches (seeds) of m trajectories each give K
estimates g_hat_k. Reported per (estimator, m):

- ``bias``: an estimate of ||E g_hat - grad J||: the squared distance of the mean of the K
  estimates from grad J, less that mean's own variance (so it is not inflated by noise), with a
  95% bootstrap interval over the K batches. An unbiased estimator's interval reaches down to 0.
- ``max_abs_z``: the largest |mean - grad J| / standard error of the K estimates, along grad J
  and a few random directions (:func:`projected_z`); an unbiased estimator keeps it within a few
  units.
- ``variance``: trace of the covariance of one trajectory's term g_i (so Var g_hat = variance / m).
- ``rmse``: sqrt(mean_k ||g_hat_k - grad J||^2), the typical error of one estimate from m
  trajectories; theory: sqrt(variance / m) for an unbiased estimator.
- ``cosine``: mean_k cos(g_hat_k, grad J).

The error-vs-m slope on log-log axes is fitted per estimator (theory: -1/2). A learning-curve
experiment runs gradient ascent on the logits from the uniform policy, with the exact gradient and
with each estimator at the same step size, and records the exact J(theta) after every step
(estimators: the mean over a few runs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from pgrad.envs.finite import FiniteMDP
from pgrad.lab.exact import (
    ENUMERATION_LIMIT,
    count_trajectories,
    expected_return,
    policy_gradient,
)
from pgrad.lab.natural import natural_ascent_curves
from pgrad.lab.sampling import (
    PPO_EPOCH2,
    per_trajectory_gradients,
    ppo_second_epoch,
    sample_trajectories,
    trajectory_gradients,
)

SEED_STRIDE = 1_000_003
"""Seeds of the batches for different m are spread apart by this much. Estimators share their
batches (common random numbers), so differences between them are not sampling luck."""

ASCENT_RUNS = 5
"""Independent runs averaged in each estimator's learning curve."""

PROJECTIONS = 8
"""Random directions (besides grad J itself) along which the z-scores are taken."""

BOOTSTRAP = 1000
"""Bootstrap resamples of the K batches for the bias interval."""


@dataclass(frozen=True)
class EstimatorStats:
    """Measured quality of one estimator at one batch size (see the module docstring)."""

    estimator: str
    m: int
    seeds: int
    bias: float
    bias_low: float
    bias_high: float
    max_abs_z: float
    variance: float
    rmse: float
    rmse_theory: float
    cosine: float


@dataclass(frozen=True)
class StudyResult:
    """Everything ``pgrad lab`` reports."""

    mdp_name: str
    states: int
    actions: int
    horizon: int
    discount: float
    expected_return: float
    gradient_norm: float
    enumeration_error: float | None
    trajectories: int
    stats: list[EstimatorStats]
    slopes: dict[str, float]
    curves: dict[str, list[float]]
    critic: str = "approximate"
    natural_curves: dict[str, list[float]] = field(default_factory=dict)
    """Exact J along steps of one KL size: exact gradient, exact natural gradient, NPG, TRPO."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def measure(
    mdp: FiniteMDP, logits: np.ndarray, estimator: str, m: int, seeds: int, seed: int,
    critic: str = "approximate",
) -> EstimatorStats:  # fmt: skip
    """Draw ``seeds`` batches of m trajectories; compare their estimates with the exact gradient."""
    exact = policy_gradient(mdp, logits)
    estimates = np.empty((seeds, *exact.shape))
    targets = np.empty((seeds, *exact.shape))
    total = np.zeros(exact.shape)
    total_sq = np.zeros(exact.shape)
    for k in range(seeds):
        trajectories = sample_trajectories(mdp, logits, m, seed + k)
        g, targets[k] = trajectory_gradients(mdp, logits, trajectories, estimator, critic)
        estimates[k] = g.mean(axis=0)
        total += g.sum(axis=0)
        total_sq += (g**2).sum(axis=0)
    n = seeds * m
    mean = total / n
    component_var = np.maximum(total_sq / n - mean**2, 0.0) * n / max(n - 1, 1)
    # Deviations from each batch's target (grad J itself, except for ppo_epoch2).
    deviations = (estimates - targets).reshape(seeds, -1)
    zero = np.zeros(deviations.shape[1])
    rng = np.random.default_rng(seed)
    directions = np.concatenate(
        [targets.mean(axis=0).reshape(1, -1), rng.standard_normal((PROJECTIONS, exact.size))]
    )
    resamples = [np.arange(seeds)] + [rng.integers(0, seeds, seeds) for _ in range(BOOTSTRAP)]
    bias_sq = [_debiased_bias_sq(deviations[idx], zero) for idx in resamples]
    errors = np.linalg.norm(deviations, axis=1)
    flat, target_flat = estimates.reshape(seeds, -1), targets.reshape(seeds, -1)
    norms = np.linalg.norm(flat, axis=1) * np.linalg.norm(target_flat, axis=1)
    dots = (flat * target_flat).sum(axis=1)
    cosine = np.where(norms > 0, dots / np.where(norms > 0, norms, 1), 0.0)
    variance = float(component_var.sum())
    return EstimatorStats(
        estimator=estimator,
        m=m,
        seeds=seeds,
        bias=float(np.sqrt(max(bias_sq[0], 0.0))),
        bias_low=float(np.sqrt(max(np.percentile(bias_sq[1:], 2.5), 0.0))),
        bias_high=float(np.sqrt(max(np.percentile(bias_sq[1:], 97.5), 0.0))),
        max_abs_z=projected_z(deviations, zero, directions),
        variance=variance,
        rmse=float(np.sqrt((errors**2).mean())),
        rmse_theory=float(np.sqrt(variance / m)),
        cosine=float(cosine.mean()),
    )


def projected_z(estimates: np.ndarray, exact: np.ndarray, directions: np.ndarray) -> float:
    """Largest |z| of the K estimates' mean against the exact gradient, along a few directions.

    Args:
        estimates: float [K, D], independent estimates.
        exact: float [D].
        directions: float [J, D]; each row is normalised here.

    Along each direction u, z = (mean_k u.g_k - u.grad J) / (std_k u.g_k / sqrt(K)). Projections
    mix every component, so a component that few trajectories touch (whose own spread is poorly
    estimated) cannot produce a spurious z.
    """
    norms = np.linalg.norm(directions, axis=1, keepdims=True)
    units = directions[norms[:, 0] > 0] / norms[norms[:, 0] > 0]
    projected = estimates @ units.T  # [K, J]
    spread = projected.std(axis=0, ddof=1) / np.sqrt(estimates.shape[0])
    deviation = np.abs(projected.mean(axis=0) - units @ exact)
    z = np.where(spread > 0, deviation / np.where(spread > 0, spread, 1.0), 0.0)
    return float(z.max(initial=0.0))


def _debiased_bias_sq(estimates: np.ndarray, exact: np.ndarray) -> float:
    """Unbiased estimate of ||E g_hat - grad J||^2 from K batch estimates [K, S, A].

    ||mean - grad J||^2 overestimates the squared bias by the mean's own variance, tr Cov / K; that
    variance is estimated from the spread of the K estimates and subtracted.
    """
    k = estimates.shape[0]
    flat = estimates.reshape(k, -1)
    deviation = flat.mean(axis=0) - exact.reshape(-1)
    noise = flat.var(axis=0, ddof=1).sum() / k
    return float(deviation @ deviation - noise)


def fit_slope(ms: list[int], errors: list[float]) -> float:
    """Least-squares slope of log(error) against log(m); nan without two positive errors."""
    if len(ms) < 2 or min(errors) <= 0:
        return float("nan")
    return float(np.polyfit(np.log(ms), np.log(errors), 1)[0])


def ascent_curves(
    mdp: FiniteMDP,
    estimators: list[str],
    steps: int,
    step_size: float,
    m: int,
    seed: int,
    critic: str = "approximate",
) -> dict[str, list[float]]:
    """Exact J(theta) along gradient ascent from uniform logits, exact gradient and estimators.

    Each estimator's curve is the mean over :data:`ASCENT_RUNS` independent runs.
    """
    shape = (mdp.num_states, mdp.num_actions)
    curves: dict[str, list[float]] = {}
    for name in ["exact", *estimators]:
        runs = 1 if name == "exact" else ASCENT_RUNS
        total = np.zeros(steps + 1)
        for run in range(runs):
            logits = np.zeros(shape)
            total[0] += expected_return(mdp, logits)
            for step in range(steps):
                if name == "exact":
                    grad = policy_gradient(mdp, logits)
                else:
                    draws = sample_trajectories(mdp, logits, m, seed + SEED_STRIDE * run + step)
                    if name == PPO_EPOCH2:  # two epochs: the first step, then the second
                        g, _, logits = ppo_second_epoch(mdp, logits, draws, step_size)
                    else:
                        g = per_trajectory_gradients(mdp, logits, draws, name, critic)
                    grad = g.mean(axis=0)
                logits = logits + step_size * grad
                total[step + 1] += expected_return(mdp, logits)
        curves[name] = (total / runs).tolist()
    return curves


def run_study(
    mdp: FiniteMDP,
    mdp_name: str,
    logits: np.ndarray,
    estimators: list[str],
    ms: list[int],
    seeds: int,
    seed: int,
    ascent_steps: int,
    ascent_step_size: float,
    ascent_m: int,
    critic: str = "approximate",
    natural: tuple[float, float] | None = None,
) -> StudyResult:
    """Measure every (estimator, m) and run the ascent experiments (``natural``: the max KL and
    damping of the natural-gradient one, or None to skip it)."""
    exact = policy_gradient(mdp, logits)
    trajectories = count_trajectories(mdp)
    enumeration_error = None
    if trajectories <= ENUMERATION_LIMIT:
        enumeration_error = float(np.abs(policy_gradient(mdp, logits, "enumerate") - exact).max())
    stats = []
    for estimator in estimators:
        for j, m in enumerate(ms):
            base = seed + SEED_STRIDE * j  # every estimator sees the same trajectories
            stats.append(measure(mdp, logits, estimator, m, seeds, base, critic))
    slopes = {
        e: fit_slope(
            [s.m for s in stats if s.estimator == e], [s.rmse for s in stats if s.estimator == e]
        )
        for e in estimators
    }
    curves = ascent_curves(mdp, estimators, ascent_steps, ascent_step_size, ascent_m, seed,
                          critic)  # fmt: skip
    natural_curves = {}
    if natural is not None and ascent_steps > 0:
        natural_curves = natural_ascent_curves(mdp, steps=ascent_steps, max_kl=natural[0],
                                               damping=natural[1], m=ascent_m, seed=seed,
                                               runs=ASCENT_RUNS)  # fmt: skip
    return StudyResult(
        mdp_name=mdp_name,
        states=mdp.num_states,
        actions=mdp.num_actions,
        horizon=mdp.horizon,
        discount=mdp.discount,
        expected_return=expected_return(mdp, logits),
        gradient_norm=float(np.linalg.norm(exact)),
        enumeration_error=enumeration_error,
        trajectories=trajectories,
        stats=stats,
        slopes=slopes,
        curves=curves,
        critic=critic,
        natural_curves=natural_curves,
    )
