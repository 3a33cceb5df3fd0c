"""pgrad's Adam gives the parameters torch.optim.Adam gives, step after step."""

from __future__ import annotations

import pytest
import torch

from pgrad.algos.adam import Adam


def _model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))


def test_matches_torch_adam_with_groups_schedules_and_missing_gradients() -> None:
    ours, theirs = _model(0), _model(0)

    def groups(model: torch.nn.Module) -> list[dict]:
        return [{"params": list(model[0].parameters()), "lr": 0.01},
                {"params": list(model[2].parameters()), "lr": 0.003}]  # fmt: skip

    mine = Adam(groups(ours), eps=1e-5)
    reference = torch.optim.Adam(groups(theirs), eps=1e-5)
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(1))
    for k in range(30):
        for model, optimizer in ((ours, mine), (theirs, reference)):
            optimizer.zero_grad()
            out = model(x)
            loss = out.square().mean() if k % 3 else out[:, 0].sum()
            loss.backward()
            if k % 4 == 1:  # the first layer gets no gradient: its step count must not advance
                model[0].weight.grad = None
                model[0].bias.grad = None
            if k == 10:
                optimizer.param_groups[1]["lr"] = 0.02  # a schedule changes a group's rate
            optimizer.step()
        for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_zero_grad_clears_and_state_is_per_parameter() -> None:
    model = _model(2)
    optimizer = Adam([{"params": model.parameters(), "lr": 0.1}])
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    assert all(s["step"] == 1 for s in optimizer.state.values())
    optimizer.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def _steps(model: torch.nn.Module, optimizer, k: int, seed: int) -> None:
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(seed))
    for _ in range(k):
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()


def _groups(model: torch.nn.Module) -> list[dict]:
    return [{"params": list(model[0].parameters()), "lr": 0.01},
            {"params": list(model[2].parameters()), "lr": 0.003}]  # fmt: skip


def test_state_dict_round_trip_continues_bit_for_bit_like_torch() -> None:
    """Save after some steps, load into a fresh optimiser over a copy of the weights, continue:
    the parameters equal torch.optim.Adam's run without interruption, bit for bit."""
    reference_model, model = _model(0), _model(0)
    reference = torch.optim.Adam(_groups(reference_model), eps=1e-5)
    mine = Adam(_groups(model), eps=1e-5)
    _steps(reference_model, reference, 7, seed=1)
    _steps(model, mine, 7, seed=1)
    saved = mine.state_dict()
    assert set(saved["state"]) == {0, 1, 2, 3}  # keyed by index, numbered across groups
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2, 3]]
    assert all(float(s["step"]) == 7 for s in saved["state"].values())
    _steps(model, mine, 3, seed=9)  # training on does not change what was saved
    restored = _model(5)
    restored.load_state_dict({k: v.clone() for k, v in reference_model.state_dict().items()})
    again = Adam(_groups(restored), eps=1e-5)
    again.load_state_dict(saved)
    _steps(restored, again, 5, seed=2)
    _steps(reference_model, reference, 5, seed=2)
    for a, b in zip(restored.parameters(), reference_model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # torch's own state dict loads into ours too (the same layout).
    from_torch = Adam(_groups(restored), eps=1e-5)
    from_torch.load_state_dict(reference.state_dict())
    assert from_torch.param_groups[1]["lr"] == 0.003
    assert all(s["step"] == 12 for s in from_torch.state.values())


def test_a_state_dict_of_other_shapes_is_refused() -> None:
    model = _model(0)
    optimizer = Adam(_groups(model))
    _steps(model, optimizer, 1, seed=0)
    other = Adam([{"params": list(model.parameters()), "lr": 0.1}])
    with pytest.raises(ValueError, match="other parameter groups"):
        other.load_state_dict(optimizer.state_dict())


@pytest.mark.parametrize("rates", [(0.01, 0.01), (0.01, 0.003)])
def test_flat_buffers_step_as_one_array_with_the_same_numbers(rates: tuple[float, float]) -> None:
    """Parameters and gradients that are views of one buffer (as every policy's are) step a
    group, or every group at once when they share a rate, as one array: the numbers of the
    parameter-by-parameter steps, to float32 rounding."""
    from pgrad.policies.flat import flatten_parameters

    flat, plain = _model(3), _model(3)
    flatten_parameters(flat, list(flat.parameters()))

    def groups(model: torch.nn.Module) -> list[dict]:
        return [{"params": list(model[0].parameters()), "lr": rates[0]},
                {"params": list(model[2].parameters()), "lr": rates[1]}]  # fmt: skip

    fused, reference = Adam(groups(flat), eps=1e-5), Adam(groups(plain), eps=1e-5)
    assert fused._spans[0] is not None and fused._all is not None
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(4))
    for k in range(12):
        for model, optimizer in ((flat, fused), (plain, reference)):
            for p in model.parameters():  # in place, as the NumPy backward pass writes them
                if p.grad is not None:
                    p.grad.zero_()
            loss = model(x).square().mean() * (k + 1)
            grads = torch.autograd.grad(loss, list(model.parameters()))
            for p, g in zip(model.parameters(), grads, strict=True):
                if p.grad is None:
                    p.grad = g.clone()
                else:
                    p.grad.copy_(g)
            optimizer.step()
        assert fused.gradient_span() is not None  # the fused path was the one taken
        for a, b in zip(flat.parameters(), plain.parameters(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    saved = fused.state_dict()
    again = Adam(groups(flat), eps=1e-5)
    again.load_state_dict(saved)  # in place, into the views of the moment buffers
    assert again._all is not None
    torch.testing.assert_close(again._all[1], fused._all[1], rtol=0, atol=0)
    assert all(s["step"] == 12 for s in again.state.values())
