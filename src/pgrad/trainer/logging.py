"""Metric sinks for a run: one CSV row per update, and TensorBoard scalars.

Metric names are namespaced (``rollout/ep_return_mean``, ``loss/policy``, ``eval/return_mean``);
the CSV has a fixed header, with empty cells where a metric was not measured at that update.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from pgrad.errors import PgradError
from pgrad.trainer.files import atomic_write

COLUMNS = (
    "update",
    "env_steps",
    "episodes",
    "rollout/transitions",
    "rollout/idle_share",
    "time/train_seconds",
    "time/rollout_seconds",
    "rollout/ep_return_mean",
    "rollout/ep_return_std",
    "rollout/ep_length_mean",
    "loss/policy",
    "loss/value",
    "policy/entropy",
    "policy/approx_kl",
    "policy/clipfrac",
    "opt/grad_norm",
    "opt/lr",
    "opt/epochs",
    "eval/return_mean",
    "eval/return_std",
    "eval/confirm_mean",
)
"""The CSV header, in order."""

TIMING_COLUMNS = frozenset({"time/train_seconds", "time/rollout_seconds"})
"""Columns that depend on the machine's speed; every other column is reproducible."""


def after_earlier_files(log_dir: Path) -> None:
    """Wait (at most a second) until a new TensorBoard event file will sort after the ones in
    ``log_dir``.

    TensorBoard reads a directory's event files in name order, and a name holds the second it
    was created, then the host and the process id. A run resumed within the second it was killed
    could get a name that sorts first, and then the purge of the killed run's later steps would
    be read before those steps (seen as duplicated steps under load).
    """
    stamps = [int(p.name.split(".")[3]) for p in log_dir.glob("events.out.tfevents.*")
              if p.name.split(".")[3].isdigit()]  # fmt: skip
    while stamps and int(time.time()) <= max(stamps):
        time.sleep(0.02)


class MetricsLogger:
    """Writes each update's metrics to ``metrics.csv`` and, optionally, TensorBoard events."""

    def __init__(
        self, run_dir: Path, tensorboard: bool, history: list[dict[str, float]] | None = None
    ) -> None:
        """Start the sinks; ``history`` (a resumed run's rows) becomes the CSV's first rows, and
        TensorBoard events after its last step are purged, so nothing is duplicated or lost."""
        self.path = run_dir / "metrics.csv"
        atomic_write(self.path, lambda tmp: _write_rows(tmp, history or []))
        try:
            self._file = self.path.open("a", newline="")
        except OSError as exc:
            raise PgradError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self._csv = csv.DictWriter(self._file, fieldnames=COLUMNS)
        self._tb: Any = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter  # heavy import, only when asked

            purge = int(history[-1]["env_steps"]) + 1 if history else None
            if purge is not None:
                after_earlier_files(run_dir / "tensorboard")
            self._tb = SummaryWriter(log_dir=str(run_dir / "tensorboard"), purge_step=purge)

    def log(self, row: dict[str, float]) -> None:
        """Append one update's metrics; keys must be among :data:`COLUMNS`.

        Raises:
            PgradError: the disk is full or the file cannot be written.
        """
        try:
            self._csv.writerow(row)
            self._file.flush()
        except OSError as exc:
            raise PgradError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        if self._tb is not None:
            step = int(row["env_steps"])
            for key, value in row.items():
                if key not in ("update", "env_steps"):
                    self._tb.add_scalar(key, value, step)

    def close(self) -> None:
        """Flush and close every sink."""
        self._file.close()
        if self._tb is not None:
            self._tb.close()


def _write_rows(path: Path, rows: list[dict[str, float]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def read_metrics(path: Path) -> list[dict[str, float]]:
    """Read ``metrics.csv`` back; empty cells are left out of each row."""
    with path.open(newline="") as f:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]
