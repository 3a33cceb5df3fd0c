"""The settings of a tuning study (``pgrad tune``'s own options), apart from the trained config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import tyro

from pgrad.config import require


@dataclass(frozen=True)
class TuneConfig:
    """Search ALGO's hyperparameters with Optuna (pip install -e ".[tune]"): each trial trains
    one config on every seed, without early stopping, and scores the mean of their objective."""

    out: Annotated[Path, tyro.conf.arg(metavar="DIR")] = Path("tune")
    """The study's directory: trial runs, trials.csv, best.json and best_config.json (load it
    with `pgrad train --config DIR/best_config.json`). Rerunning the same command continues the
    study there (several at once run trials in parallel); another study there is an error."""
    trials: int = 20
    """Trials in all (completed, pruned or invalid; interrupted ones are run again)."""
    seeds: tuple[int, ...] = (1, 2)
    """Seeds every trial trains, one after another."""
    objective: Literal["final", "mean"] = "final"
    """final: each run's final evaluation (mean return); mean: the mean of all its evaluations
    (which also rewards learning early)."""
    pruner: Literal["median", "none"] = "median"
    """median: stop a trial whose evaluation falls below the median of earlier trials at the same
    point of the same seed's run; none: run every trial to its end."""
    startup_trials: int = 5
    """Trials run to the end before pruning starts."""
    milestones: int = 10
    """Points of each run (equal shares of its budget) at which trials are compared for pruning;
    the first fifth of the first seed's run is never pruned."""
    sampler: Literal["tpe", "random"] = "tpe"
    """tpe: Optuna's tree-structured Parzen estimator; random: independent uniform draws."""
    study_seed: int = 0
    """Seed of the sampler's draws."""
    space: Annotated[Path | None, tyro.conf.arg(metavar="FILE")] = None
    """A TOML search space replacing the algorithm's shipped one (src/pgrad/tuning/spaces.toml
    shows the form)."""

    def __post_init__(self) -> None:
        for name, top in (("trials", 100_000), ("milestones", 1000)):
            value = getattr(self, name)
            require(isinstance(value, int) and 1 <= value <= top,
                    f"{name} must be an integer in [1, {top}] (got {value!r})")  # fmt: skip
        startup = self.startup_trials
        require(isinstance(startup, int) and startup >= 0,
                f"startup_trials must be an integer >= 0 (got {startup!r})")  # fmt: skip
        require(bool(self.seeds) and len(set(self.seeds)) == len(self.seeds)
                and all(isinstance(s, int) and 0 <= s < 2**32 for s in self.seeds),
                f"seeds must be distinct integers in [0, 2^32), e.g. --seeds 1 2 (got "
                f"{self.seeds!r})")  # fmt: skip
        seed = self.study_seed
        require(isinstance(seed, int) and 0 <= seed < 2**32,
                f"study_seed must be an integer in [0, 2^32) (got {seed!r})")  # fmt: skip
