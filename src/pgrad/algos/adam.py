"""Adam (Kingma and Ba, 2015), the update rule of ``torch.optim.Adam`` without its import cost.

Why pgrad carries its own: constructing any ``torch.optim`` optimiser imports ``torch._dynamo``
(the compiler's frontend; every optimiser method is wrapped to keep the compiler out), which
takes 0.8-1.9 s on a 2-core laptop (constructing one ``torch.optim.Adam`` after ``import torch``
measured 1.9 s again here): as long as importing torch itself, and several times as long as
pgrad's default CartPole training. pgrad never compiles. The rule below is
``torch.optim.Adam``'s single-tensor algorithm (no AMSGrad, no weight decay), operation for
operation, and ``tests/algos/test_adam.py`` checks that both give the same parameters, step after
step, with several parameter groups and parameters that receive no gradient on some steps.

    m_t = beta1 m_{t-1} + (1 - beta1) g_t           v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
    theta_t = theta_{t-1} - lr / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)

t counts the steps in which that parameter had a gradient (as in PyTorch). :meth:`Adam.state_dict`
uses ``torch.optim.Adam``'s layout (state keyed by parameter index), so either optimiser can load
the other's state.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn


class Adam:
    """Adam over parameter groups; each group is a dict with ``params`` and ``lr``.

    Like a ``torch.optim`` optimiser, ``param_groups[i]["lr"]`` may be changed between steps
    (learning-rate schedules), and any other keys of a group are kept as they are.
    """

    def __init__(
        self,
        param_groups: list[dict[str, Any]],
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.param_groups = [dict(group, params=list(group["params"])) for group in param_groups]
        self.betas = betas
        self.eps = eps
        self.state: dict[nn.Parameter, dict[str, Any]] = {
            p: _fresh(p) for group in self.param_groups for p in group["params"]
        }

    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state in ``torch.optim.Adam``'s layout, keyed by parameter index.

        ``{"state": {i: {"step", "exp_avg", "exp_avg_sq"}}, "param_groups": [{..., "params":
        [i, ...]}]}``, indices numbered across groups in order; ``step`` is a float tensor, as in
        PyTorch. Tensors are copies, so the result does not change as training goes on.
        """
        index = {p: i for i, p in enumerate(p for g in self.param_groups for p in g["params"])}
        state = {
            index[p]: {
                "step": torch.tensor(float(s["step"])),
                "exp_avg": s["exp_avg"].clone(),
                "exp_avg_sq": s["exp_avg_sq"].clone(),
            }
            for p, s in self.state.items()
            if s["step"] > 0
        }
        groups = [
            {**{k: v for k, v in g.items() if k != "params"}, "betas": self.betas, "eps": self.eps,
             "params": [index[p] for p in g["params"]]}
            for g in self.param_groups
        ]  # fmt: skip
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s state (ours or ``torch.optim.Adam``'s) in place.

        Raises:
            ValueError: the groups or parameter shapes do not match this optimiser's.
        """
        groups = state_dict["param_groups"]
        sizes = [len(g["params"]) for g in groups]
        if sizes != [len(g["params"]) for g in self.param_groups]:
            raise ValueError("optimizer state has other parameter groups than this optimizer")
        saved = {int(k): v for k, v in state_dict["state"].items()}
        for g, mine in zip(groups, self.param_groups, strict=True):
            mine.update({k: v for k, v in g.items() if k not in ("params", "betas", "eps")})
            for i, p in zip(g["params"], mine["params"], strict=True):
                s = saved.get(int(i))
                if s is None:
                    self.state[p] = _fresh(p)
                    continue
                if s["exp_avg"].shape != p.shape or s["exp_avg_sq"].shape != p.shape:
                    raise ValueError(f"optimizer state of parameter {i} does not match its shape")
                self.state[p] = {"step": int(float(s["step"])),
                                 "exp_avg": s["exp_avg"].to(p.dtype).clone(),
                                 "exp_avg_sq": s["exp_avg_sq"].to(p.dtype).clone()}  # fmt: skip

    def zero_grad(self) -> None:
        """Drop every parameter's gradient (``set_to_none``, as PyTorch does by default)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One Adam step for every parameter that has a gradient."""
        beta1, beta2 = self.betas
        for group in self.param_groups:
            lr = group["lr"]
            for p in group["params"]:
                grad: Tensor | None = p.grad
                if grad is None:
                    continue
                state = self.state[p]
                state["step"] += 1
                t = state["step"]
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                step_size = lr / (1 - beta1**t)
                denom = (exp_avg_sq.sqrt() / (1 - beta2**t) ** 0.5).add_(self.eps)
                p.addcdiv_(exp_avg, denom, value=-step_size)


def _fresh(p: Tensor) -> dict[str, Any]:
    """A parameter's state before its first step."""
    return {
        "step": 0,
        "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
        "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
    }
