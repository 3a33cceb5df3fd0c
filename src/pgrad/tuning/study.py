"""A tuning study: Optuna draws configs from the search space; each trial trains them on every
seed, reports its evaluations for pruning, and the results are written after every trial.

The study lives in ``OUT/study.db`` (SQLite, with heartbeats), so rerunning the same command
continues it, and several processes on it run trials in parallel; a trial whose process died is
failed by the next process after a grace period and run again.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from pgrad.config import TrainConfig
from pgrad.errors import PgradError
from pgrad.trainer.callbacks import Callbacks, Progress
from pgrad.trainer.files import atomic_write_text, dumps_strict, read_json
from pgrad.trainer.loop import TrainResult, train
from pgrad.trainer.run_dir import check_run_dir
from pgrad.tuning.config import TuneConfig
from pgrad.tuning.space import Param, load_space

STUDY = "pgrad"
TRIAL_OVERRIDES = {"target_return": "none", "progress": False}
"""Every trial trains its whole budget (scores compare equal budgets), without a progress bar."""


@dataclass
class TuneResult:
    """What a study found."""

    best_value: float
    best_params: dict[str, Any]
    best_config: TrainConfig
    trials: int
    """Trials finished so far (completed, pruned or invalid)."""
    out: Path


def tune(base: TrainConfig, settings: TuneConfig, console: Console | None = None) -> TuneResult:
    """Run (or continue) the study of ``base`` under ``settings``; return the best trial.

    Raises:
        PgradError: optuna missing, a bad search space, ``settings.out`` holding other files or
            another study, or no trial completed.
    """
    optuna = import_optuna()
    console = console or Console(stderr=True, soft_wrap=True)
    space = load_space(base, settings.space)
    base.replace(**TRIAL_OVERRIDES, **probe(space))  # the names and types fit the config
    prepare(settings.out, describe(base, settings, space))
    study = open_study(optuna, settings)
    done = count_finished(study)
    if done:
        console.print(f"continuing the study in {settings.out}: {done} of {settings.trials} "
                      "trials finished", markup=False, highlight=False)  # fmt: skip

    def objective(trial: Any) -> float:
        return run_trial(optuna, trial, base, settings, space, console)

    def after(study: Any, trial: Any) -> None:
        write_results(settings.out, study, base)
        if count_finished(study) >= settings.trials:
            study.stop()

    if done < settings.trials:
        study.optimize(objective, callbacks=[after], catch=(PgradError,))
    write_results(settings.out, study, base)
    return result_of(study, base, settings.out)


def import_optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise PgradError('pgrad tune needs Optuna: pip install -e ".[tune]"') from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def probe(space: list[Param]) -> dict[str, Any]:
    """One point of ``space`` (each range's low end, each first choice)."""
    point: dict[str, Any] = {}
    for p in space:
        low = int(p.low) if p.integer and p.low is not None else p.low
        point[p.name] = point[p.same_as] if p.same_as else p.choices[0] if p.choices else low
    return point


def describe(base: TrainConfig, settings: TuneConfig, space: list[Param]) -> dict[str, Any]:
    """What makes a study this study (``OUT/tune.json``): the base config, the settings other
    than the number of trials, the space."""
    shown = {k: v for k, v in asdict(settings).items() if k not in ("trials", "out")}
    shown = json.loads(json.dumps(shown, default=str))
    return {"config": base.to_json(), "settings": shown,
            "space": [{k: v for k, v in asdict(p).items() if v not in (None, False, ())}
                      for p in space]}  # fmt: skip


def prepare(out: Path, identity: dict[str, Any]) -> None:
    """A new study directory, or the same study's to continue; anything else is refused."""
    marker = out / "tune.json"
    if marker.is_file():
        saved = read_json(marker, "the study's tune.json")
        if json.loads(dumps_strict(identity)) != saved:
            raise PgradError(f"{out} holds a study of another config, space or settings; choose "
                             "another --out, or rerun its own command to continue it")  # fmt: skip
        return
    check_run_dir(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PgradError(f"cannot create {out}: {exc.strerror}") from None
    atomic_write_text(marker, dumps_strict(identity, indent=2) + "\n")


def open_study(optuna: Any, settings: TuneConfig) -> Any:
    """The study of ``settings.out/study.db`` (created on first use)."""
    with warnings.catch_warnings():  # heartbeats are marked experimental; they are what we need
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = optuna.storages.RDBStorage(
            f"sqlite:///{(settings.out / 'study.db').resolve()}",
            heartbeat_interval=30, grace_period=120,
        )
    known = optuna.load_study(study_name=STUDY, storage=storage).trials if any(
        s.study_name == STUDY for s in optuna.get_all_study_summaries(storage)) else []
    # A continued study draws on from a seed of its own (the same seed would repeat the draws
    # of the first trials), still fixed by the study seed and the trials already there.
    seed = int(np.random.SeedSequence([settings.study_seed, len(known)]).generate_state(1)[0])
    samplers = {"tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler}
    sampler = samplers[settings.sampler](seed=seed)
    if settings.pruner == "median":
        warmup = max(settings.milestones // 5, 1)
        pruner = optuna.pruners.MedianPruner(n_startup_trials=settings.startup_trials,
                                             n_warmup_steps=warmup)  # fmt: skip
    else:
        pruner = optuna.pruners.NopPruner()
    return optuna.create_study(study_name=STUDY, storage=storage, sampler=sampler, pruner=pruner,
                               direction="maximize", load_if_exists=True)  # fmt: skip


def count_finished(study: Any) -> int:
    """Trials that count towards the total: completed, pruned, or failed on an invalid config
    (a trial interrupted or killed is run again)."""
    return sum(t.state.name in ("COMPLETE", "PRUNED")
               or (t.state.name == "FAIL" and "error" in t.user_attrs)
               for t in study.get_trials(deepcopy=False))  # fmt: skip


def draw(trial: Any, space: list[Param]) -> dict[str, Any]:
    """The trial's values, in the order of the space (``same_as`` after its source)."""
    drawn: dict[str, Any] = {}
    for p in space:
        drawn[p.name] = p.suggest(trial, drawn)
    return drawn


def run_trial(optuna: Any, trial: Any, base: TrainConfig, settings: TuneConfig,
              space: list[Param], console: Console) -> float:  # fmt: skip
    """Train the trial's config on every seed; the mean of their objectives."""
    params = draw(trial, space)
    trial.set_user_attr("params", params)
    try:
        cfg = base.replace(**params, **TRIAL_OVERRIDES)
    except PgradError as exc:
        trial.set_user_attr("error", str(exc))
        console.print(f"trial {trial.number}: invalid config ({exc})", markup=False)
        raise
    values: list[float] = []
    for k, seed in enumerate(settings.seeds):
        reporter = Reporter(trial, k, cfg.run.total_env_steps, settings.milestones)
        run_dir = settings.out / "trials" / f"{trial.number:04d}" / f"seed-{seed}"
        result = train(cfg.replace(seed=seed, run_dir=run_dir), console=console,
                       callbacks=Callbacks([reporter]))  # fmt: skip
        if result.interrupted:
            raise KeyboardInterrupt
        if reporter.pruned:
            console.print(f"trial {trial.number}: pruned at {reporter.where}", markup=False)
            raise optuna.TrialPruned(reporter.where)
        values.append(score(result, reporter, settings.objective))
    trial.set_user_attr("seed_values", values)
    value = sum(values) / len(values)
    per_seed = ", ".join(f"{v:.1f}" for v in values)
    console.print(f"trial {trial.number}: {value:.2f} (seeds {per_seed}) {shown(params)}",
                  markup=False, highlight=False)  # fmt: skip
    return value


def shown(params: dict[str, Any]) -> str:
    """``name=value, ...`` with floats to 4 significant digits."""
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in params.items())  # fmt: skip


def score(result: TrainResult, reporter: Reporter, objective: str) -> float:
    """One run's objective: its final evaluation, or the mean of its evaluations."""
    if objective == "mean" and reporter.means:
        return sum(reporter.means) / len(reporter.means)
    return float(result.evaluation.mean)


class Reporter:
    """The callback of one seed's run: evaluations reported to the trial at fixed shares of the
    budget (step ``k * milestones + j`` for seed k, share j), so that trials compare at the same
    points; the run stops once the pruner says so."""

    def __init__(self, trial: Any, k: int, budget: int, milestones: int) -> None:
        self.trial, self.k, self.budget, self.milestones = trial, k, budget, milestones
        self.means: list[float] = []
        self.reached = 0
        self.pruned = False
        self.where = ""

    def on_evaluation(self, p: Progress) -> None:
        assert p.evaluation is not None
        mean = float(p.evaluation.mean)
        self.means.append(mean)
        reached = min(p.env_steps * self.milestones // self.budget, self.milestones)
        if reached <= self.reached or not math.isfinite(mean):
            return
        for j in range(self.reached + 1, reached + 1):
            self.trial.report(mean, self.k * self.milestones + j)
        self.reached = reached
        if self.trial.should_prune():
            self.pruned = True
            self.where = f"{p.env_steps:,} env steps of seed run {self.k + 1} (eval {mean:.2f})"
            p.stop("pruned by the tuner")


def write_results(out: Path, study: Any, base: TrainConfig) -> None:
    """``trials.csv`` (every trial), and ``best.json`` with ``best_config.json`` once one
    completed."""
    trials = study.get_trials(deepcopy=False)
    names = sorted({n for t in trials for n in t.user_attrs.get("params", {})})
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["trial", "state", "value", "seed_values", *names, "seconds", "note"])
    for t in trials:
        params = t.user_attrs.get("params", {})
        seconds = t.duration.total_seconds() if t.duration is not None else ""
        writer.writerow([t.number, t.state.name.lower(), "" if t.value is None else t.value,
                         " ".join(f"{v:g}" for v in t.user_attrs.get("seed_values", [])),
                         *[json.dumps(params[n]) if n in params else "" for n in names],
                         seconds, t.user_attrs.get("error", "")])  # fmt: skip
    atomic_write_text(out / "trials.csv", buf.getvalue())
    if any(t.state.name == "COMPLETE" for t in trials):
        best = study.best_trial
        params = best.user_attrs["params"]
        atomic_write_text(out / "best_config.json", base.replace(**params).dumps() + "\n")
        atomic_write_text(out / "best.json", dumps_strict({
            "trial": best.number, "value": best.value, "params": params,
            "seed_values": best.user_attrs.get("seed_values"),
            "config": str(out / "best_config.json"),
        }, indent=2) + "\n")  # fmt: skip


def result_of(study: Any, base: TrainConfig, out: Path) -> TuneResult:
    """The best completed trial."""
    if not any(t.state.name == "COMPLETE" for t in study.get_trials(deepcopy=False)):
        raise PgradError(f"no trial of the study in {out} completed (see {out / 'trials.csv'}); "
                         "widen the space, raise --total-env-steps or use --pruner none")
    best = study.best_trial
    params = best.user_attrs["params"]
    return TuneResult(best.value, params, base.replace(**params), count_finished(study), out)
