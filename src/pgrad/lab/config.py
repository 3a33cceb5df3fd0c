"""Typed configuration of ``pgrad lab``; its command line is derived from it."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pgrad.config import require, require_positive_int
from pgrad.errors import PgradError
from pgrad.lab.sampling import ESTIMATORS, check_estimator


@dataclass(frozen=True)
class LabConfig:
    """Measure policy-gradient estimators against the exact gradient on a finite MDP.

    For each estimator and batch size m, `seeds` independent batches of m trajectories give
    estimates of grad J at fixed random logits; the lab reports their bias, variance, error and
    cosine to the exact gradient, fits the error's slope against m, and runs gradient ascent with
    each estimator beside exact gradient ascent.
    """

    mdp: str = "chain"
    """A shipped MDP (chain, gridworld, bandit) or a .npz/.json file with initial, transitions,
    rewards, horizon and optionally discount."""
    estimators: tuple[str, ...] = ESTIMATORS
    """Estimators to measure: Psi recipes KIND[+BASELINE][+lambda=L][+std] as `pgrad train` names
    them (return, reward_to_go+mean (the trainer's default), reward_to_go+value, gae+lambda=0.9,
    ...; summary.json's psi), and ppo_epoch2."""
    critic: Literal["exact", "approximate"] = "approximate"
    """V of the recipes with a value baseline or gae: the exact V_t, or an approximate
    time-averaged V (biased, as a learned critic is)."""
    m: tuple[int, ...] = (10, 100, 1000, 10000)
    """Batch sizes: trajectories per estimate (space- or comma-separated)."""
    seeds: int = 20
    """Independent batches per (estimator, m)."""
    logits_seed: int = 0
    """Seed of the random logits at which gradients are measured."""
    logits_scale: float = 1.0
    """Standard deviation of those logits (0 gives the uniform policy)."""
    ascent_steps: int = 100
    """Gradient-ascent steps of the learning-curve experiment."""
    ascent_step_size: float = 1.0
    """Step size of that experiment, the same for every estimator and the exact gradient."""
    ascent_m: int = 10
    """Trajectories per estimate in that experiment."""
    natural_max_kl: float = 0.02
    """KL size of each step of the natural-gradient experiment: exact ascent along the gradient
    and the natural gradient, and NPG's and TRPO's sampled updates (m = ascent_m), every step
    scaled so that its quadratic KL model is this."""
    natural_damping: float = 1e-3
    """Damping of that experiment's natural gradient, (F + damping I)^-1 grad J."""
    seed: int = 0
    """Seed of the sampled trajectories."""
    run_dir: Path | None = None
    """Where outputs go (default runs/lab__<mdp>__<timestamp>); must not exist yet."""

    def __post_init__(self) -> None:
        require(bool(self.estimators), "no estimators given; e.g. --estimators return reward_to_go")
        for name in self.estimators:
            try:
                check_estimator(name)
            except ValueError as exc:
                raise PgradError(f"unknown estimators [{name!r}]: {exc}") from None
        require(
            bool(self.m) and all(isinstance(v, int) and v >= 2 for v in self.m),
            f"m must be integers >= 2 (got {self.m}); e.g. --m 10,100,1000",
        )
        for name in ("seeds", "ascent_m"):
            require_positive_int(self, name, f"e.g. --{name.replace('_', '-')} 10")
        require(self.seeds >= 2, f"seeds must be >= 2 to measure spread (got {self.seeds})")
        require(self.ascent_steps >= 0, f"ascent_steps must be >= 0 (got {self.ascent_steps})")
        require(
            math.isfinite(self.ascent_step_size) and self.ascent_step_size > 0,
            f"ascent_step_size must be positive (got {self.ascent_step_size}); try 1.0",
        )
        for name in ("natural_max_kl", "natural_damping"):
            value = getattr(self, name)
            require(isinstance(value, int | float) and math.isfinite(value) and value > 0,
                    f"{name} must be a positive number (got {value}); e.g. --"
                    f"{name.replace('_', '-')} 0.01")  # fmt: skip
        require(
            math.isfinite(self.logits_scale) and self.logits_scale >= 0,
            f"logits_scale must be >= 0 (got {self.logits_scale}); try 1.0",
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values."""
        out = dataclasses.asdict(self)
        out["run_dir"] = None if self.run_dir is None else str(self.run_dir)
        return out
