"""Algorithms: one module each, registered by name in :data:`ALGORITHMS`.

An algorithm module provides (the :class:`Algorithm` protocol):

- ``Config``: its frozen config dataclass (a :class:`pgrad.config.TrainConfig`), with the
  algorithm's own fields and real defaults; ``pgrad train NAME`` is derived from it;
- ``make_sampler(cfg, envs, seed) -> Sampler``: the sampler it learns from;
- ``update(policy, optimizer, batch, cfg, generator) -> metrics``: Psi_t -> loss -> optimiser steps.

Adding an algorithm is one new module and one line in :data:`ALGORITHMS`.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import torch
from gymnasium.vector import VectorEnv

from pgrad.algos import a2c, npg, ppo, reinforce, trpo, vpg
from pgrad.algos.adam import Adam
from pgrad.config import TrainConfig, read_config_file
from pgrad.errors import PgradError
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.batch import Batch, Sampler
from pgrad.types import Metrics

ALGORITHMS: dict[str, ModuleType] = {
    "reinforce": reinforce,
    "vpg": vpg,
    "a2c": a2c,
    "ppo": ppo,
    "npg": npg,
    "trpo": trpo,
}
"""Every algorithm by name; the first is the default of ``pgrad train``."""


class Algorithm(Protocol):
    """What the trainer needs of an algorithm module."""

    Config: type[TrainConfig]

    def make_sampler(self, cfg: Any, envs: VectorEnv, seed: int) -> Sampler:
        """The sampler the algorithm learns from (owning ``envs``)."""
        ...

    def update(
        self, policy: MLPPolicy, optimizer: Adam, batch: Batch, cfg: Any, generator: torch.Generator
    ) -> Metrics:
        """One update on ``batch``; returns its metrics."""
        ...


def algorithm(name: str) -> Algorithm:
    """The algorithm module registered as ``name``.

    Raises:
        PgradError: an unknown name, listing the known ones.
    """
    if name not in ALGORITHMS:
        raise PgradError(f"unknown algorithm {name!r}; choose one of {', '.join(ALGORITHMS)}")
    return ALGORITHMS[name]  # type: ignore[return-value]


def config_from_dict(data: dict[str, Any], algo: str | None = None) -> TrainConfig:
    """A config from its saved form (``algo`` key, or ``algo`` given; default reinforce)."""
    name = data.get("algo", algo or "reinforce")
    if algo is not None and name != algo:
        raise PgradError(
            f"the config is for {name!r}; use `pgrad train {name}` or drop the algorithm"
        )
    return algorithm(str(name)).Config.from_json({**data, "algo": name})


def load_config(path: Path, algo: str | None = None) -> TrainConfig:
    """A config saved as JSON (a run's ``config.json``) or TOML; unknown keys are errors."""
    return config_from_dict(read_config_file(path), algo)
