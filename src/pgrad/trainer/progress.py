"""The live progress bar of ``pgrad train`` (rich)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class TrainingProgress:
    """Env steps against the budget, steps/s, recent mean return, elapsed and ETA.

    Updated once per update, never per step, so it costs nothing on the rollout path.
    """

    def __init__(self, total_steps: int, title: str, enabled: bool, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=20),
            TextColumn("{task.completed:,.0f}/{task.total:,.0f} steps"),
            TextColumn("{task.fields[sps]} steps/s"),
            TextColumn("return {task.fields[ret]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self._task = self._progress.add_task(title, total=total_steps, sps="-", ret="-")

    def update(self, env_steps: int, steps_per_second: float, mean_return: float) -> None:
        """Show the state after an update."""
        self._progress.update(
            self._task,
            completed=env_steps,
            sps=f"{steps_per_second:,.0f}",
            ret=f"{mean_return:.1f}",
        )

    def __enter__(self) -> TrainingProgress:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()
