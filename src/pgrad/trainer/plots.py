"""The learning-curve figure of a run."""

from __future__ import annotations

from pathlib import Path


def plot_learning_curve(
    rows: list[dict[str, float]], target: float | None, title: str, path: Path
) -> None:
    """Save a PNG of training and evaluation returns against environment steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
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
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
