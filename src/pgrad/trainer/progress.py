"""The live progress bar of ``pgrad train`` (rich)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def compact(n: float) -> str:
    """A step count in at most 5 characters: 950, 12.3k, 1.50M."""
    if n < 1000:
        return f"{n:.0f}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}k" if n < 100_000 else f"{n / 1000:.0f}k"
    return f"{n / 1_000_000:.2f}M"


class TrainingProgress:
    """Env steps against the budget, steps/s, recent mean return, elapsed and ETA.

    Fits an 80-column terminal with every column (the bar takes what is left). Updated once per
    update, never per step, so it costs nothing on the rollout path.
    """

    def __init__(self, total_steps: int, title: str, enabled: bool, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=None if console.width < 100 else 30),
            TextColumn("{task.fields[steps]}"),
            TextColumn("{task.fields[sps]}/s"),
            TextColumn("R {task.fields[ret]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self._total = total_steps
        self._task = self._progress.add_task(
            title[:24], total=total_steps, steps=f"0/{compact(total_steps)}", sps="-", ret="-"
        )

    def update(self, env_steps: int, train_seconds: float, mean_return: float) -> None:
        """Show the state after an update."""
        self._progress.update(
            self._task,
            completed=env_steps,
            steps=f"{compact(env_steps)}/{compact(self._total)}",
            sps=compact(env_steps / max(train_seconds, 1e-9)),
            ret=f"{mean_return:.1f}",
        )

    def __enter__(self) -> TrainingProgress:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()
