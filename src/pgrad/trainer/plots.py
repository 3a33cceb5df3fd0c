"""The learning-curve figure of a run."""

from __future__ import annotations

from pathlib import Path


def plot_learning_curve(
    rows: list[dict[str, float]], target: float | None, title: str, path: Path
) -> None:
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
    ax.plot(steps, mean, color="tab:blue", label="training batch mean return")
    ax.fill_between(
        steps, [a - b for a, b in zip(mean, std, strict=True)],
        [a + b for a, b in zip(mean, std, strict=True)], color="tab:blue", alpha=0.15,
        label="± 1 std over the batch's episodes",
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
    fig.subplots_adjust(left=0.09, right=0.98, top=0.92, bottom=0.12)
    fig.savefig(path)
