"""Adam (Kingma and Ba, 2015), the update rule of ``torch.optim.Adam`` without its import cost.

Why pgrad carries its own: constructing any ``torch.optim`` optimiser imports ``torch._dynamo``
(the compiler's frontend; every optimiser method is wrapped to keep the compiler out), which
takes about 0.8 s on a 2-core laptop: as long as importing torch itself, and five times as long as
pgrad's default CartPole training. pgrad never compiles. The rule below is
``torch.optim.Adam``'s single-tensor algorithm (no AMSGrad, no weight decay), operation for
operation, and ``tests/algos/test_adam.py`` checks that both give the same parameters, step after
step, with several parameter groups and parameters that receive no gradient on some steps.

    m_t = beta1 m_{t-1} + (1 - beta1) g_t           v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
    theta_t = theta_{t-1} - lr / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)

t counts the steps in which that parameter had a gradient (as in PyTorch).
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
        self.state: dict[nn.Parameter, dict[str, Any]] = {}
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {
                    "step": 0,
                    "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                    "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
                }

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
