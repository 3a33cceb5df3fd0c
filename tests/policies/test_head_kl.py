"""Each head's closed-form KL divergence: against a Monte-Carlo estimate from its own
log-probabilities, zero on itself, and a positive semi-definite Hessian there (the Fisher)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from pgrad.policies.heads import make_head

SPACES = {
    "categorical": gym.spaces.Discrete(4),
    "gaussian": gym.spaces.Box(-1.0, 1.0, (3,)),
    "squashed": gym.spaces.Box(-1.0, 1.0, (2,)),
    "multi_categorical": gym.spaces.MultiDiscrete([3, 2, 4]),
    "bernoulli": gym.spaces.MultiBinary(3),
}


def draws(head, out: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """n actions for each of the B rows of ``out``, [n, B, ...]."""
    rng = np.random.default_rng(seed)
    noise = torch.from_numpy(head.noise(rng, (n, out.shape[0])))
    return torch.stack([head.sample(out, noise[i]) for i in range(n)])


@pytest.mark.parametrize("dist", sorted(SPACES))
def test_the_kl_matches_a_monte_carlo_estimate(dist: str) -> None:
    torch.manual_seed(0)
    head = make_head(SPACES[dist], dist)
    out_p, out_q = torch.randn(2, 5, head.num_outputs) * 0.7
    with torch.no_grad():
        p, q = head.distribution(out_p), head.distribution(out_q)
        if hasattr(head, "log_std"):  # the heads owning a log std: new has another one
            q = torch.cat([q.chunk(2, -1)[0], q.chunk(2, -1)[1] + 0.3], -1)
            head_q = make_head(SPACES[dist], dist)
            head_q.log_std.data += 0.3
        else:
            head_q = head
        exact = head.kl(p, q)
        n = 40_000
        actions = draws(head, out_p, n, seed=1)
        flat = actions.reshape(n * 5, *actions.shape[2:])
        log_p = head.log_prob_entropy(out_p.repeat(n, 1), flat)[0].reshape(n, 5)
        log_q = head_q.log_prob_entropy(out_q.repeat(n, 1), flat)[0].reshape(n, 5)
        sample = log_p - log_q
    estimate, se = sample.mean(0), sample.std(0) / n**0.5
    assert torch.all((estimate - exact).abs() < 5 * se + 1e-6), (estimate, exact, se)


@pytest.mark.parametrize("dist", sorted(SPACES))
def test_the_kl_is_zero_on_itself_with_a_psd_hessian(dist: str) -> None:
    torch.manual_seed(1)
    head = make_head(SPACES[dist], dist).double()
    out = torch.randn(1, head.num_outputs, dtype=torch.float64)
    old = head.distribution(out).detach()

    def kl(o: torch.Tensor) -> torch.Tensor:
        return head.kl(old, head.distribution(o.reshape(1, -1))).sum()

    assert kl(out.reshape(-1)).item() == pytest.approx(0.0, abs=1e-12)
    hessian = torch.autograd.functional.hessian(kl, out.reshape(-1))
    assert torch.linalg.eigvalsh(hessian).min() > -1e-10
    assert torch.linalg.eigvalsh(hessian).max() > 1e-3
