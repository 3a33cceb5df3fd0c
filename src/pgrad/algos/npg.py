"""NPG: the natural policy gradient (Kakade, 2001), with a fixed KL step size.

Each update moves the policy along (F + damping I)^-1 g, scaled so that the quadratic model of
the mean KL divergence from the old policy equals max_kl (:mod:`pgrad.algos.natural`); V is
fitted as in VPG.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from pgrad.algos.adam import Adam
from pgrad.algos.natural import NaturalConfig, make_sampler, natural_update
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.batch import Batch
from pgrad.types import Metrics

__all__ = ["Config", "NPGConfig", "make_sampler", "update"]


@dataclass(frozen=True)
class NPGConfig(NaturalConfig):
    """Train NPG: the natural policy gradient (Kakade, 2001) by conjugate gradient on
    Fisher-vector products, a step of fixed KL size max_kl, Psi_t = GAE over a learned V
    (standardised) on fixed-length rollouts (or complete episodes); optim.lr is not used (the
    step is set by max_kl)."""

    algo: ClassVar[str] = "npg"


Config = NPGConfig


def update(policy: MLPPolicy, optimizer: Adam, batch: Batch, cfg: NPGConfig,
           generator: torch.Generator) -> Metrics:  # fmt: skip
    """One natural-gradient step of KL size max_kl, then the value regression."""
    return natural_update(policy, optimizer, batch, cfg, generator)
