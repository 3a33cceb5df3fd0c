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

A group whose parameters, and at a step their gradients, are consecutive views of one buffer
each (:mod:`pgrad.policies.flat`) steps as one array (every group at once when they share a
learning rate and step count): the same rule in a dozen NumPy operations over the whole slice,
instead of five PyTorch operations per parameter (the moments are views of one buffer too). For
a policy and value function of 11k parameters that is 20 us a step instead of 50 through PyTorch
over the span, or 300 parameter by parameter. NumPy rounds the interpolation of the first moment
in two steps where PyTorch may fuse it, so the two ways agree to float32 rounding
(``tests/algos/test_adam.py``); step counts advance for every parameter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from pgrad.policies.flat import flat_span


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
        self._spans = _Span.groups([g["params"] for g in self.param_groups], self.state)
        for group in self.param_groups:
            for p in group["params"]:
                self.state.setdefault(p, _fresh(p))
        self._grads: list[Tensor | None] = []
        self._grad_span: Tensor | None = None
        self._all = self._joint_span()

    def _joint_span(self) -> tuple[Tensor, Tensor, Tensor] | None:
        """(parameters, first moments, second moments) of every group as single 1-D tensors,
        when each is one consecutive span of a single buffer; else None."""
        if any(s is None for s in self._spans):
            return None
        spans = [s for s in self._spans if s is not None]
        joint = [flat_span([getattr(s, name) for s in spans])
                 for name in ("param", "exp_avg", "exp_avg_sq")]  # fmt: skip
        return None if any(j is None for j in joint) else tuple(joint)  # type: ignore[return-value]

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
                mine_state = self.state[p]  # moments copied in place: they may be views
                if s is None:
                    mine_state["step"] = 0
                    mine_state["exp_avg"].zero_()
                    mine_state["exp_avg_sq"].zero_()
                    continue
                if s["exp_avg"].shape != p.shape or s["exp_avg_sq"].shape != p.shape:
                    raise ValueError(f"optimizer state of parameter {i} does not match its shape")
                mine_state["step"] = int(float(s["step"]))
                mine_state["exp_avg"].copy_(s["exp_avg"])
                mine_state["exp_avg_sq"].copy_(s["exp_avg_sq"])

    def gradient_span(self) -> Tensor | None:
        """Every group's gradients as one 1-D tensor, when they are consecutive views of one
        buffer (:mod:`pgrad.policies.flat`); else None."""
        grads = [p.grad for group in self.param_groups for p in group["params"]]
        if len(grads) != len(self._grads) or any(
                g is not h for g, h in zip(grads, self._grads, strict=False)):  # fmt: skip
            self._grads = grads
            self._grad_span = None if any(g is None for g in grads) else flat_span(grads)  # type: ignore[arg-type]
        return self._grad_span

    def zero_grad(self) -> None:
        """Drop every parameter's gradient (``set_to_none``, as PyTorch does by default)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One Adam step for every parameter that has a gradient."""
        if self._step_all_at_once():
            return
        for group, span in zip(self.param_groups, self._spans, strict=True):
            lr = group["lr"]
            if span is not None and span.ready(self.state):
                for p in group["params"]:
                    self.state[p]["step"] += 1
                t = self.state[group["params"][0]]["step"]
                self._update_span(span.param, span.grad(), span.exp_avg, span.exp_avg_sq, lr, t)
                continue
            for p in group["params"]:
                grad: Tensor | None = p.grad
                if grad is None:
                    continue
                state = self.state[p]
                state["step"] += 1
                self._update(p, grad, state["exp_avg"], state["exp_avg_sq"], lr, state["step"])

    def _step_all_at_once(self) -> bool:
        """Step every group as one array when they are consecutive views of one buffer, with
        one learning rate and one step count (one optimiser over a policy and its value
        function, as most settings have it), and their gradients too; return whether it did."""
        if self._all is None or len({g["lr"] for g in self.param_groups}) != 1:
            return False
        grad = self.gradient_span()  # covering every parameter: each group's are consecutive too
        counts = {s["step"] for s in self.state.values()}
        if grad is None or len(counts) != 1:
            return False
        for state in self.state.values():
            state["step"] += 1
        param, exp_avg, exp_avg_sq = self._all
        self._update_span(param, grad, exp_avg, exp_avg_sq, self.param_groups[0]["lr"],
                          counts.pop() + 1)  # fmt: skip
        return True

    def _update(
        self, p: Tensor, grad: Tensor, exp_avg: Tensor, exp_avg_sq: Tensor, lr: float, t: int
    ) -> None:
        beta1, beta2 = self.betas
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step_size = lr / (1 - beta1**t)
        denom = (exp_avg_sq.sqrt() / (1 - beta2**t) ** 0.5).add_(self.eps)
        p.addcdiv_(exp_avg, denom, value=-step_size)


    def _update_span(
        self, p: Tensor, grad: Tensor, exp_avg: Tensor, exp_avg_sq: Tensor, lr: float, t: int
    ) -> None:
        """:meth:`_update` in NumPy, in place, over 1-D views of one buffer each."""
        beta1, beta2 = self.betas
        p_, g, m, v = (x.numpy() for x in (p, grad, exp_avg, exp_avg_sq))
        tmp = np.subtract(g, m)
        tmp *= 1 - beta1
        m += tmp  # m = m + (1 - beta1)(g - m), PyTorch's lerp
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v *= beta2
        v += tmp
        denom = np.sqrt(v, out=tmp)
        denom *= 1.0 / (1 - beta2**t) ** 0.5
        denom += self.eps
        np.divide(m, denom, out=tmp)
        tmp *= -lr / (1 - beta1**t)
        p_ += tmp


class _Span:
    """A group stored as consecutive views of one buffer: its parameters, moments and (when they
    are views too) gradients as single 1-D tensors."""

    def __init__(self, params: list[nn.Parameter], param: Tensor, exp_avg: Tensor,
                 exp_avg_sq: Tensor) -> None:  # fmt: skip
        self.params = params
        self.param, self.exp_avg, self.exp_avg_sq = param, exp_avg, exp_avg_sq
        self._grads: list[Tensor | None] = []
        self._grad: Tensor | None = None

    @classmethod
    def groups(cls, groups: list[list[nn.Parameter]], state: dict[nn.Parameter, dict[str, Any]]
               ) -> list[_Span | None]:  # fmt: skip
        """The span of each group whose parameters are consecutive views of one buffer (None
        for the others), with its moments views of two buffers shared by all groups (so that
        consecutive groups have consecutive moments); each parameter's state is a view too."""
        params = [flat_span(list(g)) if len(set(g)) == len(g) else None for g in groups]
        total = sum(p.numel() for p in params if p is not None)
        dtype = next((p.dtype for p in params if p is not None), torch.float32)
        moments = torch.zeros(total, dtype=dtype), torch.zeros(total, dtype=dtype)
        spans: list[_Span | None] = []
        offset = 0
        for group, param in zip(groups, params, strict=True):
            if param is None:
                spans.append(None)
                continue
            n = param.numel()
            span = cls(group, param, *(m[offset : offset + n] for m in moments))
            spans.append(span)
            offset += n
            inner = 0
            for p in group:
                k = p.numel()
                m, v = (x[inner : inner + k].view(p.shape) for x in (span.exp_avg, span.exp_avg_sq))
                state[p] = {"step": 0, "exp_avg": m, "exp_avg_sq": v}
                inner += k
        return spans

    def ready(self, state: dict[nn.Parameter, dict[str, Any]]) -> bool:
        """Whether this step can be taken on the whole span: every gradient a view of one buffer
        and every parameter at the same step count."""
        grads = [p.grad for p in self.params]
        if any(g is not h for g, h in zip(grads, self._grads, strict=False)) or len(
                grads) != len(self._grads):  # fmt: skip
            self._grads = grads
            self._grad = flat_span(grads)  # type: ignore[arg-type]
        if self._grad is None:
            return False
        first = state[self.params[0]]["step"]
        return all(state[p]["step"] == first for p in self.params)

    def grad(self) -> Tensor:
        """The gradients as one 1-D tensor (after :meth:`ready`)."""
        assert self._grad is not None
        return self._grad


def _fresh(p: Tensor) -> dict[str, Any]:
    """A parameter's state before its first step."""
    return {
        "step": 0,
        "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
        "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
    }
