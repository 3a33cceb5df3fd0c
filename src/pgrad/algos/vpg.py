"""VPG (Spinning Up's vanilla policy gradient): REINFORCE with GAE and a learned value baseline.

The same sampler and update as :mod:`pgrad.algos.reinforce`; only the defaults differ: Psi_t is
GAE(0.99, 0.97) with a learned V, standardised, and V is fitted for 20 steps after each policy step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pgrad.algos.reinforce import ReinforceConfig, make_sampler, update
from pgrad.config import EnvConfig, OptimConfig, PolicyConfig
from pgrad.estimators.psi import Baseline, PsiKind

__all__ = ["Config", "VPGConfig", "make_sampler", "update"]


@dataclass(frozen=True)
class VPGConfig(ReinforceConfig):
    """Train VPG: REINFORCE with Psi_t = GAE(gamma, lambda) over a learned value function,
    standardised, on m complete episodes; V is regressed after each policy step (Spinning Up's
    VPG)."""

    algo: ClassVar[str] = "vpg"

    episodes_per_update: int = 8
    psi: PsiKind = "gae"
    baseline: Baseline = "value"
    gamma: float = 0.99
    gae_lambda: float = 0.97
    normalize_advantages: bool = True
    value_epochs: int = 20
    env: EnvConfig = EnvConfig(num_envs=8)
    policy: PolicyConfig = PolicyConfig(hidden_sizes=(64, 64))
    optim: OptimConfig = OptimConfig(lr=0.003, value_lr=0.003)


Config = VPGConfig
