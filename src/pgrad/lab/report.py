"""``pgrad lab``: run a study, write its run directory, print tables that explain themselves."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from rich import box
from rich.console import Console
from rich.table import Table

from pgrad.errors import PgradError
from pgrad.lab.config import LabConfig
from pgrad.lab.io import load_mdp
from pgrad.lab.plots import plot_ascent, plot_error_vs_m, plot_natural_ascent, plot_variance
from pgrad.lab.study import EstimatorStats, StudyResult, run_study
from pgrad.trainer.run_dir import check_run_dir, create_run_dir, default_run_dir

LEGEND = (
    "bias: estimate of ||E g_hat - grad J|| (the distance of the seeds' mean estimate from grad J, "
    "less the part explained by noise), with a 95% bootstrap interval: an unbiased estimator's "
    "reaches 0. max|z|: the largest deviation of the mean estimate along grad J and 8 random "
    "directions, in standard errors of the mean of the seeds' estimates. "
    "variance: trace of the covariance of one trajectory's term g_i, so Var g_hat = variance / m. "
    "RMSE: error of one estimate from m trajectories; theory sqrt(variance / m). "
    "cos: mean cosine to grad J."
)
"""What each column means; printed under the table and written into report.md."""

Z_LIMIT = 5.0
"""|z| beyond which a component's mean estimate is called inconsistent with the exact gradient."""


def run_lab(cfg: LabConfig, console: Console | None = None) -> tuple[StudyResult, Path]:
    """Run the study ``cfg`` describes, write its outputs and print the report.

    Raises:
        PgradError: bad MDP name or file, or an existing run directory (before anything is written).
    """
    console = console or Console(width=None if Console().is_terminal else 110)
    torch.set_num_threads(1)  # the lab's tensors are tiny: one thread measured 7x faster
    try:
        mdp, label = load_mdp(cfg.mdp)
    except ValueError as exc:
        raise PgradError(str(exc)) from exc
    run_dir = cfg.run_dir or default_run_dir(f"lab__{Path(label).stem}", "lab", cfg.seed)
    check_run_dir(run_dir)
    logits = cfg.logits_scale * np.random.default_rng(cfg.logits_seed).standard_normal(
        (mdp.num_states, mdp.num_actions)
    )
    start = time.perf_counter()
    result = run_study(
        mdp, label, logits, list(cfg.estimators), sorted(cfg.m), cfg.seeds, cfg.seed,
        cfg.ascent_steps, cfg.ascent_step_size, cfg.ascent_m, cfg.critic,
        (cfg.natural_max_kl, cfg.natural_damping),
    )  # fmt: skip
    seconds = time.perf_counter() - start
    create_run_dir(run_dir)
    (run_dir / "config.json").write_text(json.dumps(cfg.to_json(), indent=2) + "\n")
    (run_dir / "results.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
    np.save(run_dir / "logits.npy", logits)
    plot_error_vs_m(result, run_dir / "error_vs_m.png")
    plot_variance(result, run_dir / "variance.png")
    plot_ascent(result, cfg.ascent_step_size, cfg.ascent_m, run_dir / "ascent.png")
    if result.natural_curves:
        plot_natural_ascent(result, cfg.natural_max_kl, run_dir / "natural_ascent.png")
    (run_dir / "report.md").write_text(markdown_report(result))
    print_report(result, console)
    console.print(f"[dim]{seconds:.1f} s; run written to {run_dir}[/dim]")
    return result, run_dir


def verdict(rows: list[EstimatorStats]) -> str:
    """Whether one estimator's measurements are consistent with no bias, and why not.

    BIASED when some mean estimate is more than :data:`Z_LIMIT` standard errors from its target,
    or when the 95% bias interval excludes 0 at every m measured (an unbiased estimator's
    interval misses 0 at one m with probability 0.05, at all of k independent ones with 0.05^k;
    with a single m that one interval decides).
    """
    worst = max(s.max_abs_z for s in rows)
    excluded = all(s.bias_low > 0 for s in rows)
    if worst >= Z_LIMIT:
        return f"BIASED (largest |z| {worst:.2f} over all m; limit {Z_LIMIT:g})"
    if excluded:
        return f"BIASED (the bias interval excludes 0 at every m; largest |z| {worst:.2f})"
    return f"consistent with unbiased (largest |z| {worst:.2f} over all m; limit {Z_LIMIT:g})"


def verdicts(result: StudyResult) -> list[str]:
    """One sentence per estimator: unbiasedness, error slope, variance against reinforce."""
    lines = []
    reference = "return" if any(s.estimator == "return" for s in result.stats) else "reinforce"
    base = {s.m: s.variance for s in result.stats if s.estimator == reference}
    for estimator, slope in result.slopes.items():
        rows = [s for s in result.stats if s.estimator == estimator]
        text = f"{estimator}: {verdict(rows)}; "
        if np.isnan(slope):
            text += "no error slope (the estimates are exact: every gradient here is zero)"
        else:
            text += f"error slope {slope:.3f} against log m (theory -0.5)"
        ratios = [s.variance / base[s.m] for s in rows if s.m in base and base[s.m] > 0]
        if estimator != reference and ratios:
            text += f"; variance {np.mean(ratios):.3f} x {reference}'s"
        lines.append(text)
    return lines


def print_report(result: StudyResult, console: Console) -> None:
    """The report on the terminal."""
    console.print(
        f"[bold]{result.mdp_name}[/bold]: S={result.states}, A={result.actions}, "
        f"T={result.horizon}, gamma={result.discount:g}; at the study's logits "
        f"J(theta) = {result.expected_return:.6f}, ||grad J|| = {result.gradient_norm:.6f}"
    )
    if result.enumeration_error is None:
        console.print(f"exact gradient by dynamic programming ({result.trajectories:,}+ "
                      "trajectories: too many to enumerate)")  # fmt: skip
    else:
        console.print(
            f"exact gradient by dynamic programming; summing P(tau) grad log P(tau) R(tau) over "
            f"all {result.trajectories:,} trajectories agrees to {result.enumeration_error:.1e}"
        )
    table = Table(
        title="sampled estimators against the exact gradient", title_justify="left",
        box=box.SIMPLE_HEAD, pad_edge=False,
    )  # fmt: skip
    for name in ("estimator", "m", "bias [95% CI]", "max|z|", "variance", "RMSE (theory)", "cos"):
        table.add_column(name, justify="left" if name == "estimator" else "right", no_wrap=True)
    for s in result.stats:
        table.add_row(
            s.estimator, f"{s.m:,}", f"{s.bias:.3g} [{s.bias_low:.3g}, {s.bias_high:.3g}]",
            f"{s.max_abs_z:.2f}", f"{s.variance:.4g}", f"{s.rmse:.3g} ({s.rmse_theory:.3g})",
            f"{s.cosine:.3f}",
        )  # fmt: skip
    console.print(table)
    for line in verdicts(result):
        console.print(f"  {line}")
    finals = ", ".join(f"{k} {v[-1]:.4f}" for k, v in result.curves.items())
    if result.curves and len(next(iter(result.curves.values()))) > 1:
        console.print(f"  exact J after gradient ascent: {finals}")
    if result.natural_curves:
        console.print(f"  {natural_line(result)}")
    console.print(f"[dim]{LEGEND}[/dim]")


def natural_line(result: StudyResult) -> str:
    """Exact J halfway and at the end of the natural-gradient experiment, per curve."""
    parts = []
    for name, curve in result.natural_curves.items():
        parts.append(f"{name} {curve[len(curve) // 2]:.4f} / {curve[-1]:.4f}")
    return "exact J at half / all of the steps of one KL size: " + ", ".join(parts)


def markdown_report(result: StudyResult) -> str:
    """The report as Markdown (``report.md`` in the run directory)."""
    lines = [
        f"# Lab: {result.mdp_name}",
        "",
        f"S={result.states}, A={result.actions}, T={result.horizon}, gamma={result.discount:g}; "
        f"J(theta) = {result.expected_return:.6f}, ||grad J|| = {result.gradient_norm:.6f}.",
        "",
        "| estimator | m | bias [95% CI] | max abs z | variance | RMSE (theory) | cosine |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in result.stats:
        lines.append(
            f"| {s.estimator} | {s.m} | {s.bias:.4f} [{s.bias_low:.4f}, {s.bias_high:.4f}] "
            f"| {s.max_abs_z:.2f} | {s.variance:.4f} | {s.rmse:.4f} ({s.rmse_theory:.4f}) "
            f"| {s.cosine:.3f} |"
        )
    lines += ["", *[f"- {v}" for v in verdicts(result)]]
    if result.natural_curves:
        lines.append(f"- {natural_line(result)}")
    lines += ["", LEGEND, ""]
    return "\n".join(lines)
