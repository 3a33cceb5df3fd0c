"""The learning-curve figure of a run, drawn in-process or by a worker process.

Importing matplotlib takes about 0.3 s, a sixth of a whole ``pgrad train`` process. The command
line therefore starts a :class:`PlotWorker` before it imports torch: a child process that imports
matplotlib on the other core while the parent imports torch and trains, then draws the figure
from the rows it is sent. If the worker fails for any reason, the figure is drawn in-process, so
the run's outputs never depend on it. The Python API (``pgrad.train``) draws in-process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_learning_curve(
    rows: list[dict[str, float]],
    target: float | None,
    title: str,
    path: Path,
    label: str = "training batch mean return",
) -> Figure:
    """Save a PNG of training and evaluation returns against environment steps.

    Drawn on a bare Agg figure with fixed margins and a fixed legend corner: no pyplot state, and
    none of the layout searches (``tight_layout``, ``loc="best"``) that would take most of the
    time this figure costs.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    steps = [r["env_steps"] for r in rows]
    mean = [r["rollout/ep_return_mean"] for r in rows]
    std = [r["rollout/ep_return_std"] for r in rows]
    ax.plot(steps, mean, color="tab:blue", label=label)
    ax.fill_between(
        steps, [a - b for a, b in zip(mean, std, strict=True)],
        [a + b for a, b in zip(mean, std, strict=True)], color="tab:blue", alpha=0.15,
        label="± 1 std over those episodes",
    )  # fmt: skip
    evals = [r for r in rows if "eval/return_mean" in r]
    if evals:
        ax.errorbar(
            [r["env_steps"] for r in evals], [r["eval/return_mean"] for r in evals],
            yerr=[r["eval/return_std"] for r in evals], fmt="o", color="tab:orange",
            markersize=4, capsize=2, label="evaluation mean ± std",
        )  # fmt: skip
    if target is not None:
        ax.axhline(target, color="tab:green", linestyle="--", label=f"solved ({target:g})")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.subplots_adjust(left=_left_margin(fig, ax), right=0.98, top=0.92, bottom=0.12)
    fig.savefig(path)
    return fig


def _left_margin(fig: Figure, ax: Axes) -> float:
    """The left margin (a fraction of the width) that fits the y label and the widest tick label."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    fig.subplots_adjust(left=0.09, right=0.98, top=0.92, bottom=0.12)
    ticks = [t.get_window_extent(renderer).width for t in ax.get_yticklabels() if t.get_text()]
    label = ax.yaxis.label.get_window_extent(renderer).width  # rotated: its width is horizontal
    pixels = max(ticks, default=0.0) + label + 20.0  # tick labels, the label, padding
    return min(max(pixels / (fig.get_figwidth() * fig.dpi), 0.06), 0.3)


class PlotWorker:
    """A child process that has matplotlib imported by the time the figure is wanted."""

    TIMEOUT = 60.0
    """Seconds to wait for the worker before drawing in-process instead."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "pgrad.trainer.plots"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        except OSError:
            self._process = None

    def draw(
        self,
        rows: list[dict[str, float]],
        target: float | None,
        title: str,
        path: Path,
        label: str = "training batch mean return",
    ) -> None:
        """Have the worker write the figure; draw it here if the worker cannot."""
        process, self._process = self._process, None
        if process is not None:
            payload = json.dumps({"rows": rows, "target": target, "title": title,
                                  "path": str(path), "label": label})  # fmt: skip
            try:
                process.communicate(payload.encode(), timeout=self.TIMEOUT)
                if process.returncode == 0 and path.is_file():
                    return
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
        plot_learning_curve(rows, target, title, path, label)

    def close(self) -> None:
        """Stop the worker if no figure was asked of it."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def _serve() -> None:
    """The worker: import matplotlib now, then draw the figure described on stdin."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401

    data = json.loads(sys.stdin.read())
    plot_learning_curve(data["rows"], data["target"], data["title"], Path(data["path"]),
                        data["label"])  # fmt: skip


if __name__ == "__main__":
    _serve()
