"""pgrad: policy-gradient reinforcement learning, checked against the exact gradient.

Data flow of one training update (one sub-package per stage)::

    envs ──► rollout ──► estimators ──► losses ──► algos (update) ──► trainer (log, checkpoint)
    (Gymnasium)  ([B, T] batches)  (Psi_t: R(tau), GAE, ...)  (-(1/m) sum log pi * Psi)

Public API: the configs (:class:`ReinforceConfig`, :class:`VPGConfig`, :class:`A2CConfig`,
:class:`PPOConfig`, :class:`NPGConfig`, :class:`TRPOConfig`; :func:`make_config`),
:func:`train`, :func:`load_policy`, :func:`evaluate`, :func:`record`, :func:`tune`; the pure
math (:class:`PsiRecipe` and :func:`psi_weights`, :func:`discounted_returns`,
:func:`trajectory_return_weights`, :func:`reward_to_go`, :func:`returns_to_go`, :func:`gae`,
:func:`td_residuals`, :func:`score_function_loss`, :func:`clipped_surrogate_loss`,
:func:`value_loss`); and :mod:`pgrad.exact`, the lab.
Attributes load on first use, so ``import pgrad`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "ReinforceConfig": "pgrad.algos.reinforce",
    "VPGConfig": "pgrad.algos.vpg",
    "A2CConfig": "pgrad.algos.a2c",
    "PPOConfig": "pgrad.algos.ppo",
    "NPGConfig": "pgrad.algos.npg",
    "TRPOConfig": "pgrad.algos.trpo",
    "TrainConfig": "pgrad.config",
    "make_config": "pgrad.api",
    "PsiRecipe": "pgrad.estimators.psi",
    "parse_recipe": "pgrad.estimators.psi",
    "psi_weights": "pgrad.estimators.psi",
    "PgradError": "pgrad.errors",
    "train": "pgrad.api",
    "load_policy": "pgrad.api",
    "evaluate": "pgrad.api",
    "record": "pgrad.api",
    "tune": "pgrad.api",
    "TuneConfig": "pgrad.tuning.config",
    "TrainedPolicy": "pgrad.api",
    "TrainResult": "pgrad.trainer.loop",
    "Progress": "pgrad.trainer.callbacks",
    "Callback": "pgrad.trainer.callbacks",
    "discounted_returns": "pgrad.estimators.returns",
    "trajectory_return_weights": "pgrad.estimators.returns",
    "reward_to_go": "pgrad.estimators.returns",
    "returns_to_go": "pgrad.estimators.returns",
    "gae": "pgrad.estimators.advantages",
    "td_residuals": "pgrad.estimators.advantages",
    "score_function_loss": "pgrad.losses.policy",
    "clipped_surrogate_loss": "pgrad.losses.policy",
    "value_loss": "pgrad.losses.value",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pgrad' has no attribute {name!r}")
