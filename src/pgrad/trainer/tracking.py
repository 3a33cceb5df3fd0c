"""Experiment tracking: a run's config, metrics and summary on Weights & Biases (``--track``).

The W&B run is named after the run directory and keeps its id across ``--resume`` (derived from
the directory's absolute path), so a resumed run continues the same W&B run. Its local files go
in ``RUN_DIR/wandb/``; ``WANDB_MODE=offline`` keeps everything there (``wandb sync`` uploads it
later). W&B is imported only when tracking is asked for (``pip install -e ".[track]"``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Protocol

from pgrad.errors import PgradError


class Tracker(Protocol):
    """Where a run's metrics go besides metrics.csv and TensorBoard."""

    def log(self, row: dict[str, float]) -> None: ...

    def finish(self, summary: dict[str, Any] | None) -> None: ...


class NoTracker:
    """No tracking (the default)."""

    def log(self, row: dict[str, float]) -> None:
        """Nothing to log."""

    def finish(self, summary: dict[str, Any] | None) -> None:
        """Nothing to close."""


class WandbTracker:
    """Logs each update's metrics row at its env-step count, and the summary at the end."""

    def __init__(self, run_dir: Path, config: dict[str, Any], project: str, entity: str) -> None:
        """Start (or, for a resumed run, continue) the W&B run of ``run_dir``.

        Raises:
            PgradError: wandb missing, or W&B refusing to start (no login in online mode).
        """
        try:
            import wandb
        except ImportError:
            raise PgradError('--track needs Weights & Biases: pip install -e ".[track]"') from None
        run_id = hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:16]
        try:
            self.run = wandb.init(
                project=project, entity=entity or None, name=run_dir.name, id=run_id,
                resume="allow", config=config, dir=str(run_dir), job_type="train",
                settings=wandb.Settings(silent=True),
            )  # fmt: skip
        except Exception as exc:  # W&B's own errors (login, network) have no common base
            lines = str(exc).strip().splitlines() or [type(exc).__name__]
            raise PgradError(f"Weights & Biases could not start: {lines[0][:300]}; run `wandb "
                             "login`, or set WANDB_MODE=offline to log locally") from None

    def log(self, row: dict[str, float]) -> None:
        """One update's metrics, at step = its environment steps."""
        self.run.log({k: v for k, v in row.items() if k != "env_steps"},
                     step=int(row["env_steps"]))  # fmt: skip

    def finish(self, summary: dict[str, Any] | None) -> None:
        """The run's summary (None: it failed), then close the W&B run."""
        if summary is not None:
            self.run.summary.update({k: v for k, v in summary.items() if k != "versions"})
        self.run.finish(exit_code=0 if summary is not None else 1)


def make_tracker(track: bool, run_dir: Path, config: dict[str, Any], project: str,
                 entity: str) -> Tracker:  # fmt: skip
    """The tracker ``track`` asks for."""
    return WandbTracker(run_dir, config, project, entity) if track else NoTracker()
