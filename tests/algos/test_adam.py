"""pgrad's Adam gives the parameters torch.optim.Adam gives, step after step."""

from __future__ import annotations

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
