"""The closed-form loss gradients equal the PyTorch losses and their autograd, ties included."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pgrad.losses import clipped_surrogate_loss, value_loss
from pgrad.losses.gradients import clipped_surrogate_grad, mean_grad, value_loss_grad


def _autograd(loss_fn, x: np.ndarray, *rest: np.ndarray, **kw) -> tuple[float, np.ndarray]:
    leaf = torch.tensor(x, requires_grad=True)
    loss = loss_fn(leaf, *(torch.tensor(r) for r in rest), **kw)
    loss.backward()
    return float(loss.detach()), leaf.grad.numpy()


def _steps(seed: int, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    mask = (rng.random(shape) > 0.2).astype(np.float64)
    return {"mask": mask, "adv": rng.normal(size=shape), "old": rng.normal(size=shape)}


@pytest.mark.parametrize("shape", [(64,), (4, 9)])
@pytest.mark.parametrize("clip_coef", [0.2, 0.05])
def test_clipped_surrogate_matches_autograd(shape: tuple[int, ...], clip_coef: float) -> None:
    s = _steps(0, shape)
    rng = np.random.default_rng(1)
    # Ratios on both sides of the clip range, exactly 1 (the first epoch), exactly at a bound,
    # and zero advantages (ties between the two terms).
    log_ratio = rng.normal(scale=0.3, size=shape)
    flat = log_ratio.reshape(-1)
    flat[:3] = 0.0
    flat[3] = np.log1p(clip_coef)
    s["adv"].reshape(-1)[4:6] = 0.0
    new = s["old"] + log_ratio
    loss, grad, ratio = clipped_surrogate_grad(new, s["old"], s["adv"], s["mask"], clip_coef)
    ref_loss, ref_grad = _autograd(clipped_surrogate_loss, new, s["old"], s["adv"], s["mask"],
                                   clip_coef=clip_coef)  # fmt: skip
    assert loss == pytest.approx(ref_loss, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ratio, np.exp(log_ratio), rtol=1e-12)
    assert np.any(grad == 0) and np.any(grad != 0)  # clipped steps and live ones both occur


@pytest.mark.parametrize("clip", [None, 0.1])
@pytest.mark.parametrize("shape", [(64,), (3, 7)])
def test_value_loss_matches_autograd(clip: float | None, shape: tuple[int, ...]) -> None:
    s = _steps(2, shape)
    rng = np.random.default_rng(3)
    values, targets = rng.normal(size=shape), rng.normal(size=shape)
    old = values + rng.normal(scale=0.2, size=shape)
    flat_old, flat_v = old.reshape(-1), values.reshape(-1)
    flat_old[:2] = flat_v[:2]  # no step at all
    flat_old[2] = flat_v[2] - 0.1  # a step exactly at the clip bound
    targets.reshape(-1)[3] = flat_v[3]  # zero error: a tie of the two errors
    old_values = old if clip is not None else None
    loss, grad = value_loss_grad(values, targets, s["mask"], old_values, clip)
    ref_loss, ref_grad = _autograd(value_loss, values, targets, s["mask"],
                                   *(() if clip is None else (old,)), clip_coef=clip)  # fmt: skip
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-15)


def test_mean_and_an_empty_mask() -> None:
    x = np.arange(6.0)
    mask = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    value, grad = mean_grad(x, mask)
    assert value == pytest.approx((0 + 2 + 3) / 3)
    np.testing.assert_allclose(grad, mask / 3)
    loss, grad = value_loss_grad(x, x + 1, np.zeros(6))
    assert loss == 0.0 and not grad.any()  # nothing real: the mean over max(0, 1) steps


def test_gradients_keep_float32() -> None:
    x = np.zeros(4, np.float32)
    mask = np.ones(4, np.float32)
    _, grad, _ = clipped_surrogate_grad(x, x, np.ones(4, np.float32), mask, 0.2)
    assert grad.dtype == np.float32
    assert value_loss_grad(x, x + 1, mask)[1].dtype == np.float32
