"""TRPO: trust-region policy optimisation (Schulman et al., 2015).

The natural-gradient direction of NPG (:mod:`pgrad.algos.natural`), with a backtracking line
search: the step is shrunk by backtrack_coef until the exact mean KL from the old policy is
within max_kl and the surrogate has improved; when no fraction passes, the policy stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import torch

from pgrad.algos.adam import Adam
from pgrad.algos.natural import NaturalConfig, backtrack, make_sampler, natural_update
from pgrad.config import require, require_positive_int
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.batch import Batch
from pgrad.types import Metrics

__all__ = ["Config", "TRPOConfig", "make_sampler", "update"]


@dataclass(frozen=True)
class TRPOConfig(NaturalConfig):
    """Train TRPO: the natural-gradient direction by conjugate gradient, a backtracking line
    search under the KL constraint max_kl with a surrogate-improvement check, Psi_t = GAE over a
    learned V (standardised) on fixed-length rollouts (or complete episodes); optim.lr is not
    used."""

    algo: ClassVar[str] = "trpo"

    backtrack_iters: int = 10
    """Fractions of the step tried, 1, c, c^2, ... (c: backtrack_coef), before giving up."""
    backtrack_coef: float = 0.8
    """The factor c by which each try shrinks the step."""

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive_int(self, "backtrack_iters", "e.g. --backtrack-iters 10")
        coef = self.backtrack_coef
        require(isinstance(coef, int | float) and 0 < coef < 1,
                f"backtrack_coef must be in (0, 1) (got {coef!r}), e.g. --backtrack-coef 0.8")


Config = TRPOConfig


def update(policy: MLPPolicy, optimizer: Adam, batch: Batch, cfg: TRPOConfig,
           generator: torch.Generator) -> Metrics:  # fmt: skip
    """One line-searched natural-gradient step, then the value regression."""
    search = partial(backtrack, max_kl=cfg.max_kl, iters=cfg.backtrack_iters,
                     coef=cfg.backtrack_coef)  # fmt: skip
    return natural_update(policy, optimizer, batch, cfg, generator, take=search)
