"""Figures of a lab study (PNG)."""

from __future__ import annotations

from pathlib import Path

from pgrad.lab.study import StudyResult


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_error_vs_m(result: StudyResult, path: Path) -> None:
    """RMSE of one estimate against m on log-log axes, with the 1/sqrt(m) reference."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=110)
    if min(s.rmse for s in result.stats) <= 0:  # nothing to draw on log axes
        ax.text(0.5, 0.5, "zero error: the gradient is zero and every estimate exact",
                ha="center", va="center", transform=ax.transAxes)  # fmt: skip
        fig.savefig(path)
        plt.close(fig)
        return
    for estimator in result.slopes:
        rows = [s for s in result.stats if s.estimator == estimator]
        ms = [s.m for s in rows]
        line = ax.loglog(ms, [s.rmse for s in rows], "o-",
                         label=f"{estimator} (slope {result.slopes[estimator]:.3f})")  # fmt: skip
        ax.loglog(ms, [s.rmse_theory for s in rows], ":", color=line[0].get_color(), alpha=0.7)
    first = [s for s in result.stats if s.estimator == next(iter(result.slopes))]
    if first:
        ms = [s.m for s in first]
        anchor = first[0].rmse * ms[0] ** 0.5
        ax.loglog(ms, [anchor / m**0.5 for m in ms], "k--", alpha=0.5, label="1/sqrt(m) reference")
    ax.set_xlabel("trajectories per estimate, m")
    ax.set_ylabel("RMSE  ||g_hat - grad J||")
    ax.set_title(f"{result.mdp_name}: estimation error (dotted: sqrt(variance / m))")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_variance(result: StudyResult, path: Path) -> None:
    """Per-trajectory variance (trace of the covariance) of each estimator."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=110)
    names = list(result.slopes)
    largest_m = max(s.m for s in result.stats)
    variances = [next(s.variance for s in result.stats if s.estimator == e and s.m == largest_m)
                 for e in names]  # fmt: skip
    bars = ax.bar(names, variances, color="tab:blue")
    ax.bar_label(bars, fmt="%.3g", fontsize=8)
    ax.set_ylabel("trace Cov(g_i), one trajectory")
    ax.set_title(f"{result.mdp_name}: variance per estimator")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_natural_ascent(result: StudyResult, max_kl: float, path: Path) -> None:
    """Exact J(theta) along steps of one KL size: exact gradient and natural gradient, NPG and
    TRPO from samples."""
    styles = {"exact natural gradient": "k-", "exact gradient": "k--"}
    lines = [(name, curve, styles.get(name, "-")) for name, curve in result.natural_curves.items()]
    _curves(lines, "update", f"{result.mdp_name}: steps of KL size {max_kl:g}", path)


def plot_ascent(result: StudyResult, step_size: float, m: int, path: Path) -> None:
    """Exact J(theta) along gradient ascent: exact gradient vs each estimator."""
    lines = [("exact gradient", curve, "k-") if name == "exact"
             else (f"{name} (m={m}, mean of runs)", curve, "-")
             for name, curve in result.curves.items()]  # fmt: skip
    _curves(lines, "gradient-ascent step",
            f"{result.mdp_name}: learning curves, step size {step_size:g}", path)  # fmt: skip


def _curves(lines: list[tuple[str, list[float], str]], xlabel: str, title: str,
            path: Path) -> None:  # fmt: skip
    """One figure of exact J(theta) curves, each (label, values, matplotlib style)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=110)
    for label, curve, style in lines:
        ax.plot(range(len(curve)), curve, style, label=label, linewidth=1.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("exact J(theta)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
