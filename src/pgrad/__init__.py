"""pgrad: policy-gradient reinforcement learning, checked against the exact gradient.

Data flow of one training update (one sub-package per stage)::

    envs ──► rollout ──► estimators ──► losses ──► algos (update) ──► train (log, checkpoint)
    (Gymnasium)  (m episodes, [m, T])  (Psi_t = R(tau))  (-(1/m) sum log pi * Psi)

Public API: :class:`Config`, :func:`train`, :func:`load_policy`, :func:`evaluate`, and the pure
math :func:`discounted_returns`, :func:`trajectory_return_weights`, :func:`score_function_loss`.
Attributes load on first use, so ``import pgrad`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Config": "pgrad.config",
    "PgradError": "pgrad.errors",
    "train": "pgrad.api",
    "load_policy": "pgrad.api",
    "evaluate": "pgrad.api",
    "TrainedPolicy": "pgrad.api",
    "TrainResult": "pgrad.trainer.loop",
    "discounted_returns": "pgrad.estimators.returns",
    "trajectory_return_weights": "pgrad.estimators.returns",
    "score_function_loss": "pgrad.losses.policy",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pgrad' has no attribute {name!r}")
