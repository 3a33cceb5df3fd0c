"""A module's parameters and gradients as views of two flat buffers.

Every parameter of a policy is a view of one contiguous buffer, and its ``.grad`` a view of a
second one, in the order of the optimiser's groups (the policy's parameters, then the value
function's). The module is the same PyTorch module (autograd, ``state_dict``, ``load_state_dict``
and safetensors all work on the views, and ``load_state_dict`` copies in place), but an optimiser
step can update a whole group in a few operations over one slice instead of a few per parameter
(:class:`pgrad.algos.adam.Adam`), and a NumPy backward pass writes the gradients where autograd
would (:mod:`pgrad.policies.backprop`).

Autograd accumulates into an existing ``.grad`` in place, so the views survive ``backward``;
``zero_grad()`` drops them (PyTorch then allocates fresh gradients, and the optimiser steps
parameter by parameter, as before).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn


def flatten_parameters(module: nn.Module, order: list[nn.Parameter]) -> None:
    """Move ``module``'s parameters (``order`` first, then any others) into one buffer, and give
    each a gradient view of a second buffer (zeros)."""
    params = list(dict.fromkeys([*order, *module.parameters()]))
    if not params:
        return
    dtype = params[0].dtype
    if any(p.dtype != dtype or p.device.type != "cpu" for p in params):
        return  # mixed dtypes or devices stay as they are
    total = sum(p.numel() for p in params)
    data, grad = torch.empty(total, dtype=dtype), torch.zeros(total, dtype=dtype)
    offset = 0
    with torch.no_grad():
        for p in params:
            n = p.numel()
            data[offset : offset + n].copy_(p.reshape(-1))
            p.data = data[offset : offset + n].view(p.shape)
            p.grad = grad[offset : offset + n].view(p.shape)
            offset += n


def grad_view(param: nn.Parameter) -> np.ndarray:
    """The parameter's gradient as a NumPy view (allocated as zeros where there is none): a
    NumPy backward pass writes into it where autograd would."""
    if param.grad is None:
        param.grad = torch.zeros_like(param)
    return param.grad.numpy()


def flat_span(tensors: list[Tensor]) -> Tensor | None:
    """One 1-D view covering ``tensors`` when they are consecutive views of one buffer, in order
    (else None)."""
    if not tensors or any(t is None or not t.is_contiguous() for t in tensors):
        return None
    first = tensors[0]
    storage = first.untyped_storage().data_ptr()
    start = first.storage_offset()
    offset = start
    for t in tensors:
        if t.untyped_storage().data_ptr() != storage or t.storage_offset() != offset:
            return None
        offset += t.numel()
    base = torch.empty(0, dtype=first.dtype).set_(first.untyped_storage())
    return base[start:offset]


def is_flat(params: list[nn.Parameter]) -> bool:
    """Whether ``params`` and their gradients are consecutive views of one buffer each."""
    return flat_span(list(params)) is not None and flat_span([p.grad for p in params]) is not None
