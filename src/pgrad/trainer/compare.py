"""``pgrad plot``: learning curves of several runs, grouped by configuration, with a table.

Runs whose configs differ only in the seed and in how the run was carried out (its directory,
budget, progress bar, TensorBoard, checkpoint schedule, threads, Ray workers) form one group;
each group is drawn as the mean across its runs with a 95% confidence band (Student's t over the
runs, on a common grid of x values where every run of the group has data, each run's curve
interpolated linearly). The x-axis is environment steps or training seconds. The table gives each
group's runs, the final training return (mean ± the band's half-width) and the mean final
evaluation of ``summary.json``.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pgrad.errors import PgradError

NOT_CONFIG = {"seed", "run_dir", "total_env_steps", "tensorboard", "progress", "torch_threads",
              "checkpoint_every", "checkpoint_seconds", "keep_checkpoints", "workers",
              "ray_address", "worker_timeout", "worker_restarts", "worker_cpus"}  # fmt: skip
"""Fields of the ``run`` section that do not change what is learnt."""
X_AXES = {"env_steps": "environment steps", "time": "training seconds"}


@dataclass
class RunCurve:
    """One run: its directory, config key, curve and final evaluation."""

    dir: Path
    key: str
    config: dict[str, Any]
    x: np.ndarray
    y: np.ndarray
    final_eval: float | None


def find_runs(paths: list[Path]) -> list[Path]:
    """Each path that is a run directory, or the run directories below it (sorted)."""
    runs: list[Path] = []
    for path in paths:
        if (path / "metrics.csv").is_file() and (path / "config.json").is_file():
            runs.append(path)
        elif path.is_dir():
            runs.extend(sorted(p.parent for p in path.rglob("metrics.csv")
                               if (p.parent / "config.json").is_file()))  # fmt: skip
        else:
            raise PgradError(f"{path} is neither a run directory nor a folder of runs; pass "
                             "what `pgrad train --run-dir` wrote")  # fmt: skip
    if not runs:
        raise PgradError(f"no run directories (metrics.csv and config.json) under "
                         f"{', '.join(map(str, paths))}")  # fmt: skip
    return runs


def load_run(run: Path, x_axis: str, metric: str) -> RunCurve:
    """``run``'s curve of ``metric`` against ``x_axis`` and its config key."""
    config = json.loads((run / "config.json").read_text())
    kept = {k: v for k, v in config.get("run", {}).items() if k not in NOT_CONFIG}
    key = json.dumps({**config, "run": kept}, sort_keys=True)
    column = "env_steps" if x_axis == "env_steps" else "time/train_seconds"
    with (run / "metrics.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get(metric) not in (None, "", "nan")]
    if not rows:
        raise PgradError(f"{run / 'metrics.csv'} has no values of {metric!r}; pick another "
                         "--metric (a column of metrics.csv)")  # fmt: skip
    summary = run / "summary.json"
    final = json.loads(summary.read_text()).get("eval_mean") if summary.is_file() else None
    return RunCurve(run, key, config, np.array([float(r[column]) for r in rows]),
                    np.array([float(r[metric]) for r in rows]), final)  # fmt: skip


def group_runs(curves: list[RunCurve]) -> dict[str, list[RunCurve]]:
    """Runs by config key, labelled by algorithm and environment, and by the fields that tell
    apart the groups of the same algorithm and environment."""
    keys = list(dict.fromkeys(c.key for c in curves))
    flat = {k: _flatten(json.loads(k)) for k in keys}
    groups: dict[str, list[RunCurve]] = {}
    for key, fields in flat.items():
        task = (fields["algo"], fields["env.id"])
        kin = [f for f in flat.values() if (f["algo"], f["env.id"]) == task]
        differ = sorted(n for n in set().union(*kin) if len({str(f.get(n)) for f in kin}) > 1)
        label = " ".join([f"{fields['algo']} {fields['env.id']}",
                          *(f"{n}={fields.get(n)}" for n in differ)])  # fmt: skip
        groups[label] = [c for c in curves if c.key == key]
    return groups


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in config.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def band(runs: list[RunCurve], points: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x [P], mean [P], 95% half-width [P]) across ``runs`` on the x range all of them cover
    (half-width 0 for a single run)."""
    lo, hi = max(r.x[0] for r in runs), min(r.x[-1] for r in runs)
    x = np.linspace(lo, hi, points) if hi > lo else np.array([lo])
    ys = np.stack([np.interp(x, r.x, r.y) for r in runs])
    n = len(runs)
    if n == 1:
        return x, ys[0], np.zeros_like(x)
    from scipy.stats import t

    half = t.ppf(0.975, n - 1) * ys.std(axis=0, ddof=1) / math.sqrt(n)
    return x, ys.mean(axis=0), half


def plot_runs(groups: dict[str, list[RunCurve]], x_axis: str, metric: str, out: Path) -> None:
    """Save a PNG: each group's mean curve and its 95% band."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for label, runs in groups.items():
        x, mean, half = band(runs)
        line = ax.plot(x, mean, label=f"{label} ({len(runs)} run{'s' * (len(runs) > 1)})")[0]
        ax.fill_between(x, mean - half, mean + half, color=line.get_color(), alpha=0.2)
    ax.set_xlabel(X_AXES[x_axis])
    ax.set_ylabel(metric)
    ax.set_title("mean and 95% confidence band across seeds")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=7)
    fig.subplots_adjust(left=0.12, right=0.98, top=0.92, bottom=0.12)
    fig.savefig(out)


def table(groups: dict[str, list[RunCurve]], metric: str) -> str:
    """A Markdown table: runs, final ``metric`` (mean ± 95% half-width), final evaluation."""
    lines = [f"| group | runs | final {metric} | final evaluation (mean of runs) |",
             "|---|---:|---:|---:|"]  # fmt: skip
    for label, runs in groups.items():
        finals = np.array([r.y[-1] for r in runs])
        half = 0.0
        if len(runs) > 1:
            from scipy.stats import t

            half = t.ppf(0.975, len(runs) - 1) * finals.std(ddof=1) / math.sqrt(len(runs))
        evals = [r.final_eval for r in runs if r.final_eval is not None]
        shown = f"{np.mean(evals):.1f}" if evals else "-"
        lines.append(f"| {label} | {len(runs)} | {finals.mean():.1f} ± {half:.1f} | {shown} |")
    return "\n".join(lines)


def compare(paths: list[Path], out: Path, x_axis: str = "env_steps",
            metric: str = "rollout/ep_return_mean") -> str:  # fmt: skip
    """Draw the runs under ``paths`` into ``out``; return the table."""
    if x_axis not in X_AXES:
        raise PgradError(f"--x must be one of {', '.join(X_AXES)} (got {x_axis!r})")
    if out.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise PgradError(f"--out must end in .png, .pdf or .svg (got {out})")
    if not out.parent.is_dir():
        raise PgradError(f"the folder of --out does not exist: {out.parent}")
    groups = group_runs([load_run(r, x_axis, metric) for r in find_runs(paths)])
    plot_runs(groups, x_axis, metric, out)
    return table(groups, metric)
