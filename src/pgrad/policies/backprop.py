"""The network's forward and backward pass for a minibatch: NumPy where it can, else autograd.

An update step (:mod:`pgrad.algos.ppo`) asks a :class:`Backprop` for log pi(a|s), the entropy and
V(s) at a minibatch's steps, takes the loss and its gradient with respect to those outputs
(:mod:`pgrad.losses.gradients`), and hands the gradient back: :meth:`Backprop.backward` writes
dL/dtheta into the parameters' ``.grad``, where the optimiser reads it.

For the small MLPs of continuous control a minibatch step is a few dozen operations on 64 x 64
arrays, and PyTorch's dispatch and autograd bookkeeping cost several times the arithmetic (a
PPO minibatch step of CleanRL's MuJoCo networks measured 1.5 ms through autograd on one core of a
2-core laptop). :class:`NumpyBackprop` runs the same network, forward and backward, in NumPy
over views of the parameters and their gradients: the chain rule through each linear layer and
activation, and the head's own backward (``backward_np``). It serves feedforward policies over
vector observations whose head has a NumPy gradient (categorical, Gaussian);
:class:`AutogradBackprop` serves every other policy (images, recurrent cores, other heads) with
PyTorch's autograd from the same output gradients. Both give the same gradients to float32
rounding; ``tests/policies/test_backprop.py`` checks it for every head and value layout.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple, Protocol

import numpy as np
import torch
from torch import Tensor, nn

from pgrad.policies.flat import grad_view
from pgrad.policies.mlp import MLPPolicy, standardized


class Steps(Protocol):
    """A minibatch's steps as a :class:`pgrad.rollout.batch.Batch` holds them."""

    obs: Tensor
    actions: Tensor
    mask: Tensor
    starts: Tensor
    initial_state: Tensor


class Outputs(NamedTuple):
    """The network's outputs at a minibatch's steps, each shaped like its mask (NumPy)."""

    log_prob: np.ndarray
    entropy: np.ndarray
    value: np.ndarray


class Backprop(Protocol):
    """Forward and backward passes of one policy over minibatches."""

    def forward(self, steps: Steps) -> Outputs:
        """log pi(a|s), H(pi(.|s)) and V(s) at ``steps``, remembering what backward needs."""
        ...

    def backward(self, d_log_prob: np.ndarray, d_entropy: np.ndarray, d_value: np.ndarray
                 ) -> None:  # fmt: skip
        """Write dL/dtheta into the parameters' ``.grad`` from dL/d(outputs) of the last
        forward (each shaped like its mask)."""
        ...


def _view(tensor: Tensor) -> np.ndarray:
    return tensor.detach().numpy()


class _Dense:
    """A stack of linear layers with one activation between them, in NumPy, with its backward.

    It holds NumPy views of the weights, biases and their gradients: optimiser steps show in
    them, and the backward pass writes where the optimiser reads."""

    def __init__(self, layers: list[nn.Linear], relu: bool) -> None:
        self.relu = relu
        self.weights = [_view(m.weight) for m in layers]
        self._transposed = [w.T for w in self.weights]  # views: x @ W.T without a new view
        self.biases = [_view(m.bias) for m in layers]
        self.weight_grads = [grad_view(m.weight) for m in layers]
        self.bias_grads = [grad_view(m.bias) for m in layers]
        self.inputs: list[np.ndarray] = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The stack's output; the activation follows every layer but the last."""
        self.inputs = []
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self._transposed, self.biases, strict=True)):
            self.inputs.append(x)
            x = x @ w
            x += b
            if i < last:
                np.maximum(x, 0.0, out=x) if self.relu else np.tanh(x, out=x)
        return x

    def backward(self, d_out: np.ndarray, top: int | None = None) -> None:
        """Write the gradients of layers ``[0, top)`` (default: all) from dL/d(output of layer
        ``top - 1``), the chain rule down to the first layer.

        An activation's derivative comes from its output h (the next layer's input): tanh'
        = 1 - h^2, relu' = [h > 0].
        """
        d = d_out
        for i in range(len(self.weights) - 1 if top is None else top - 1, -1, -1):
            h = self.inputs[i]
            np.matmul(d.T, h, out=self.weight_grads[i])
            np.matmul(_ones(d.shape[0]), d, out=self.bias_grads[i])  # the column sums, via BLAS
            if i == 0:
                return
            d = d @ self.weights[i]
            if self.relu:
                d *= h > 0
            else:
                d -= d * h * h  # d * (1 - h^2), tanh's derivative from its output


@functools.cache
def _ones(n: int) -> np.ndarray:
    """ones(n) float32: ``ones @ d`` sums d's rows in a third of ``d.sum(axis=0)``'s time."""
    return np.ones(n, np.float32)


def _linears(net: nn.Module) -> list[nn.Linear]:
    return [m for m in net.modules() if isinstance(m, nn.Linear)]


class NumpyBackprop:
    """:class:`Backprop` in NumPy for a feedforward policy over vector observations."""

    def __init__(self, policy: MLPPolicy) -> None:
        self.policy = policy
        self.head: Any = policy.head
        relu = policy.spec.activation == "relu"
        self.trunk = _Dense(_linears(policy.net), relu)
        self.value_net = None if policy.value_net is None else _Dense(
            _linears(policy.value_net), relu)  # fmt: skip
        self.shared = policy.spec.value == "shared"
        if self.shared:
            self._value_weight = _view(policy.value_head.weight)
            self._value_bias = _view(policy.value_head.bias)
            self._value_weight_grad = grad_view(policy.value_head.weight)
            self._value_bias_grad = grad_view(policy.value_head.bias)
        self._normalize = policy.spec.normalize_observations
        if self._normalize:  # fixed within an update (the statistics change after it)
            self._shift, self._scale = policy.standardization_np()
        self._saved: Any = None
        self._valid: np.ndarray | None = None

    def _normalized(self, obs: np.ndarray) -> np.ndarray:
        x = np.asarray(obs, np.float32)
        if not self._normalize:
            return x
        return standardized(x, self._shift, self._scale)

    def forward(self, steps: Steps) -> Outputs:
        """Outputs at every step (masked steps too: the loss gives them zero gradient)."""
        x = self._normalized(steps.obs.numpy())
        out = self.trunk.forward(x)
        log_prob, entropy, head_saved = self.head.log_prob_entropy_np(out, steps.actions.numpy())
        if self.value_net is not None:
            value = self.value_net.forward(x)[:, 0]
        elif self.shared:
            value = self.trunk.inputs[-1] @ self._value_weight[0] + self._value_bias[0]
        else:
            value = np.zeros(x.shape[0], np.float32)
        self._saved = head_saved
        valid = steps.mask.numpy() > 0  # as evaluate_steps: zeros on masked steps
        self._valid = None if valid.all() else valid.astype(np.float32)
        if self._valid is None:
            return Outputs(log_prob, entropy, value)
        return Outputs(*(np.where(valid, v, 0.0).astype(np.float32)
                         for v in (log_prob, entropy, value)))  # fmt: skip

    def backward(self, d_log_prob: np.ndarray, d_entropy: np.ndarray, d_value: np.ndarray
                 ) -> None:  # fmt: skip
        """The chain rule from the outputs' gradients into every parameter's ``.grad`` (masked
        steps pass nothing back, as in :meth:`MLPPolicy.evaluate_steps`)."""
        if self._valid is not None:
            valid = self._valid
            d_log_prob, d_entropy, d_value = d_log_prob * valid, d_entropy * valid, d_value * valid
        d_out = self.head.backward_np(self._saved, d_log_prob, d_entropy)
        if self.shared:
            self._shared_value_backward(d_out, d_value)
        else:
            self.trunk.backward(d_out)
        if self.value_net is not None:
            self.value_net.backward(d_value[:, None])

    def _shared_value_backward(self, d_out: np.ndarray, d_value: np.ndarray) -> None:
        """A value head on the trunk's last hidden layer: its gradient joins the trunk's."""
        trunk, last = self.trunk, len(self.trunk.weights) - 1
        features = trunk.inputs[-1]
        self._value_weight_grad[0] = d_value @ features
        self._value_bias_grad[0] = d_value.sum()
        np.matmul(d_out.T, features, out=trunk.weight_grads[last])
        np.matmul(_ones(d_out.shape[0]), d_out, out=trunk.bias_grads[last])
        if last == 0:
            return
        d_features = d_out @ trunk.weights[last] + np.outer(d_value, self._value_weight[0])
        d_features *= (features > 0) if trunk.relu else (1.0 - features * features)
        trunk.backward(d_features, top=last)


class AutogradBackprop:
    """:class:`Backprop` through PyTorch's autograd (any policy)."""

    def __init__(self, policy: MLPPolicy) -> None:
        self.policy = policy
        self._outputs: tuple[Tensor, Tensor, Tensor] | None = None

    def forward(self, steps: Steps) -> Outputs:
        """:meth:`MLPPolicy.evaluate_steps` with autograd (zeros on masked steps)."""
        self._outputs = self.policy.evaluate_steps(steps.obs, steps.actions, steps.mask,
                                                   steps.starts, steps.initial_state)  # fmt: skip
        return Outputs(*(v.detach().numpy() for v in self._outputs))

    def backward(self, d_log_prob: np.ndarray, d_entropy: np.ndarray, d_value: np.ndarray
                 ) -> None:  # fmt: skip
        """Autograd from the outputs' gradients, into fresh ``.grad`` s."""
        assert self._outputs is not None
        for p in self.policy.parameters():
            p.grad = None
        grads = [torch.from_numpy(np.ascontiguousarray(g)) for g in (d_log_prob, d_entropy,
                                                                      d_value)]  # fmt: skip
        used = [(o, g) for o, g in zip(self._outputs, grads, strict=True) if o.requires_grad]
        torch.autograd.backward([o for o, _ in used], [g for _, g in used])
        self._outputs = None


def numpy_can_learn(policy: MLPPolicy) -> bool:
    """Whether :class:`NumpyBackprop` can run ``policy``: feedforward, vector observations, a
    head with a NumPy gradient, float32 CPU parameters."""
    return bool(getattr(policy.head, "numpy_grad", False) and policy.encoder.numpy_form
                and not policy.recurrent
                and all(p.dtype == torch.float32 for p in policy.parameters()))  # fmt: skip


def make_backprop(policy: MLPPolicy, backend: str = "auto") -> NumpyBackprop | AutogradBackprop:
    """NumPy where :func:`numpy_can_learn` (``backend="auto"``), else autograd.

    Raises:
        ValueError: ``backend="numpy"`` for a policy the NumPy pass cannot run.
    """
    if backend == "autograd" or (backend == "auto" and not numpy_can_learn(policy)):
        return AutogradBackprop(policy)
    if not numpy_can_learn(policy):
        raise ValueError("this policy has images, a recurrent core or a head without a NumPy "
                         "gradient: it learns through autograd")  # fmt: skip
    return NumpyBackprop(policy)
