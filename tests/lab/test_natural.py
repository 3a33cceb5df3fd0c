"""Conjugate gradient on the algorithms' Fisher-vector products against the exact natural
gradient of finite MDPs: equal from exact inputs, converging like 1/sqrt(m) from samples."""

from __future__ import annotations

import numpy as np
import pytest

from pgrad.exact import NAMED_MDPS, named_mdp, natural_gradient
from pgrad.lab.natural import exact_cg_direction, sampled_cg_direction

CASES = sorted(NAMED_MDPS)


def logits_for(mdp, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(mdp.num_states, mdp.num_actions))


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("damping", [1e-3, 0.1, 1.0])
def test_cg_on_autograd_fisher_products_is_the_exact_damped_natural_gradient(name: str,
                                                                             damping: float):
    mdp = named_mdp(name)
    z = logits_for(mdp)
    iters = 2 * mdp.num_states * mdp.num_actions  # CG is exact in S*A steps, up to rounding
    direction = exact_cg_direction(mdp, z, damping=damping, iters=iters)
    assert np.abs(direction - natural_gradient(mdp, z, damping=damping)).max() < 1e-6


def test_few_cg_iterations_are_an_approximation() -> None:
    mdp = named_mdp("gridworld")
    z = logits_for(mdp)
    exact = natural_gradient(mdp, z, damping=1e-3)
    errors = [np.abs(exact_cg_direction(mdp, z, damping=1e-3, iters=k) - exact).max()
              for k in (1, 3, 10, 72)]  # fmt: skip
    assert errors[0] > errors[1] > errors[2] > errors[3] and errors[3] < 1e-6


def test_the_sampled_direction_converges_like_one_over_sqrt_m() -> None:
    """Mean error over 16 seeds at m = 100 ... 6400: the log-log slope is -1/2 (a Monte-Carlo
    estimate's rate); the bounds hold the slope's sampling spread at these seeds (about 0.05)."""
    mdp = named_mdp("chain")
    z = 0.3 * logits_for(mdp, 1)
    exact = natural_gradient(mdp, z, damping=0.1)
    ms = np.array([100, 400, 1600, 6400])
    errors = [np.mean([np.linalg.norm(sampled_cg_direction(mdp, z, int(m), seed, damping=0.1,
                                                            iters=30) - exact)
                       for seed in range(16)]) for m in ms]  # fmt: skip
    slope = np.polyfit(np.log(ms), np.log(errors), 1)[0]
    assert -0.65 < slope < -0.35, (slope, errors)
    assert errors[-1] < errors[0] / 4


def test_the_lab_ascends_along_the_natural_gradient_and_with_npg_and_trpo() -> None:
    from pgrad.exact import expected_return
    from pgrad.lab.natural import natural_ascent_curves

    mdp = named_mdp("chain")
    curves = natural_ascent_curves(mdp, steps=30, max_kl=0.02, damping=1e-3, m=20, seed=0,
                                   runs=2)  # fmt: skip
    assert set(curves) == {"exact gradient", "exact natural gradient", "npg (m=20)",
                           "trpo (m=20)"}  # fmt: skip
    start = expected_return(mdp, np.zeros((mdp.num_states, mdp.num_actions)))
    for name in ("exact gradient", "exact natural gradient"):
        assert np.all(np.diff(curves[name][:10]) > 0)  # small KL steps: exact ascent climbs
    for name, curve in curves.items():
        assert len(curve) == 31 and curve[0] == start and curve[-1] > start + 0.5, name
