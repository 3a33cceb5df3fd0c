"""Metric sinks for a run: one CSV row per update, and TensorBoard scalars.

Metric names are namespaced (``rollout/ep_return_mean``, ``loss/policy``, ``eval/return_mean``);
the CSV has a fixed header, with empty cells where a metric was not measured at that update.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

COLUMNS = (
    "update",
    "env_steps",
    "episodes",
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


class MetricsLogger:
    """Writes each update's metrics to ``metrics.csv`` and, optionally, TensorBoard events."""

    def __init__(self, run_dir: Path, tensorboard: bool) -> None:
        self.path = run_dir / "metrics.csv"
        self._file = self.path.open("w", newline="")
        self._csv = csv.DictWriter(self._file, fieldnames=COLUMNS)
        self._csv.writeheader()
        self._tb: Any = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter  # heavy import, only when asked

            self._tb = SummaryWriter(log_dir=str(run_dir / "tensorboard"))

    def log(self, row: dict[str, float]) -> None:
        """Append one update's metrics; keys must be among :data:`COLUMNS`."""
        self._csv.writerow(row)
        self._file.flush()
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


def read_metrics(path: Path) -> list[dict[str, float]]:
    """Read ``metrics.csv`` back; empty cells are left out of each row."""
    with path.open(newline="") as f:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]
