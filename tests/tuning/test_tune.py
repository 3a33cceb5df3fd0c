"""pgrad tune: a short study end to end, its results directory, continuing it, pruning, and bad
search spaces."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import pgrad
from pgrad.cli import main
from pgrad.errors import PgradError
from pgrad.tuning.config import TuneConfig
from pgrad.tuning.space import load_space
from pgrad.tuning.study import Reporter, draw

pytest.importorskip("optuna")

BUDGET = ["--total-env-steps", "6000", "--eval-episodes", "10", "--eval-interval", "2",
          "--no-tensorboard"]  # fmt: skip


def rows(out: Path) -> list[dict[str, str]]:
    with (out / "trials.csv").open() as f:
        return list(csv.DictReader(f))


def test_a_short_study_writes_its_results_and_the_best_config_trains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "study"
    argv = ["tune", "--out", str(out), "--trials", "4", "--seeds", "1", "2", *BUDGET]
    assert main(argv) == 0
    assert "best of 4 trials" in capsys.readouterr().out
    table = rows(out)
    assert [r["trial"] for r in table] == ["0", "1", "2", "3"]
    done = [r for r in table if r["state"] == "complete"]
    best = json.loads((out / "best.json").read_text())
    assert best["value"] == max(float(r["value"]) for r in done)
    assert best["value"] == pytest.approx(sum(best["seed_values"]) / 2)
    for r in done:  # each trial trained every seed into its own run directory
        runs = out / "trials" / f"{int(r['trial']):04d}"
        assert sorted(p.name for p in runs.iterdir()) == ["seed-1", "seed-2"]
        seeds = [json.loads((runs / f"seed-{s}" / "summary.json").read_text()) for s in (1, 2)]
        assert [s["eval_mean"] for s in seeds] == [float(v) for v in r["seed_values"].split()]
        assert all(s["env_steps"] >= 6000 for s in seeds)  # no early stop: the whole budget
    config = json.loads((out / "best_config.json").read_text())
    for name, value in best["params"].items():  # the drawn values, in their sections
        section = next((s for s in config.values() if isinstance(s, dict) and name in s), config)
        assert section[name] == value
    assert config["eval"]["target_return"] == "threshold"  # the base config's, not the trials'
    run = tmp_path / "best-run"
    assert main(["train", "--config", str(out / "best_config.json"), "--run-dir", str(run),
                 "--total-env-steps", "2000", "--no-progress"]) == 0  # fmt: skip
    trained = json.loads((run / "config.json").read_text())
    assert trained["optim"]["lr"] == config["optim"]["lr"]


def test_rerunning_continues_the_study_and_another_study_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "study"
    argv = ["tune", "--out", str(out), "--seeds", "1", "--pruner", "none", *BUDGET]
    assert main([*argv, "--trials", "2"]) == 0
    first = rows(out)
    assert main([*argv, "--trials", "3"]) == 0
    assert "2 of 3 trials finished" in capsys.readouterr().err
    table = rows(out)
    assert table[:2] == first and len(table) == 3
    fixed = ("trial", "state", "value", "seed_values", "seconds", "note")
    params = [{k: v for k, v in r.items() if k not in fixed} for r in table]
    assert params[2] not in params[:2]  # the continued sampler does not replay the first draws
    marker = (out / "tune.json").read_text()
    assert main([*argv, "--trials", "3", "--lr", "0.01"]) == 2  # another base config
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "another config" in err and "\n" not in err
    assert (out / "tune.json").read_text() == marker and rows(out) == table


class StubTrial:
    def __init__(self, prune_from: int | None = None) -> None:
        self.reports: list[tuple[float, int]] = []
        self.prune_from = prune_from

    def report(self, value: float, step: int) -> None:
        self.reports.append((value, step))

    def should_prune(self) -> bool:
        return self.prune_from is not None and len(self.reports) >= self.prune_from


def test_evaluations_are_reported_at_fixed_shares_of_the_budget_and_pruning_stops_the_run(
    tmp_path: Path,
) -> None:
    trial = StubTrial(prune_from=3)
    reporter = Reporter(trial, k=1, budget=6000, milestones=10)
    cfg = pgrad.make_config(total_env_steps=6000, eval_interval=1, eval_episodes=5,
                            episodes_per_update=8, num_envs=8, target_return="none",
                            tensorboard=False, progress=False,
                            run_dir=tmp_path / "run")  # fmt: skip
    result = pgrad.train(cfg, callbacks=[reporter])
    assert reporter.pruned and result.stopped_by == "pruned by the tuner"
    assert result.env_steps < 6000
    steps = [s for _, s in trial.reports]
    assert steps == list(range(11, 11 + len(steps)))  # seed 1's steps: 10 + share, no gaps
    assert len(steps) >= 3 and reporter.reached == steps[-1] - 10


def test_a_drawn_config_the_algorithm_refuses_is_a_failed_trial_with_its_reason(
    tmp_path: Path,
) -> None:
    space = tmp_path / "space.toml"
    space.write_text("num_minibatches = {choices = [4, 3]}\n")
    out = tmp_path / "study"
    cfg = pgrad.make_config("ppo", total_env_steps=2048, num_steps=128, eval_episodes=5,
                            tensorboard=False)  # fmt: skip
    result = pgrad.tune(cfg, out=out, trials=6, seeds=(1,), space=space, sampler="random",
                        pruner="none")  # fmt: skip
    table = rows(out)
    assert len(table) == 6 and result.best_params == {"num_minibatches": 4}
    failed = [r for r in table if r["state"] == "fail"]
    assert failed and all(r["num_minibatches"] == "3" and "must divide" in r["note"]
                          for r in failed)  # fmt: skip


def test_the_shipped_spaces_draw_valid_configs_for_every_algorithm() -> None:
    optuna = pytest.importorskip("optuna")
    for algo in ("reinforce", "vpg", "a2c", "ppo"):
        cfg = pgrad.make_config(algo)
        space = load_space(cfg)
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        for _ in range(30):
            trial = study.ask()
            params = draw(trial, space)
            cfg.replace(**params)  # raises if the draw is not a valid config
            study.tell(trial, 0.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lrr = {low = 1e-4, high = 1e-2}", "unknown option 'lrr'"),
        ("lr = {low = 1e-2, high = 1e-4}", "low < high"),
        ("lr = {low = 0, high = 1e-2, log = true}", "low > 0 with log"),
        ("lr = {low = 1e-4, high = inf}", "finite numbers"),
        ("lr = [1, 2]", "must be a table"),
        ("lr = {choices = []}", "non-empty list"),
        ("update_epochs = {low = 1, high = 2.5, int = true}", "integer low"),
        ("value_lr = {same_as = 'lr'}\nlr = {low = 1e-4, high = 1e-2}", "listed before it"),
        ("lr = {low = 1e-4, high = 1e-2, tail = 1}", "must be a table"),
        ("lr = {low = 1e-4", "not valid TOML"),
    ],
)
def test_bad_search_spaces_are_one_line_errors_before_anything_is_written(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    space = tmp_path / "space.toml"
    space.write_text(text + "\n")
    out = tmp_path / "study"
    assert main(["tune", "ppo", "--out", str(out), "--space", str(space)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and message in err and "\n" not in err, err
    assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [["--trials", "0"], ["--seeds", "1", "1"], ["--objective", "best"], ["--milestones", "-1"],
     ["--study-seed", "-3"], ["--trials", "inf"], ["--startup-trials", "x"]],
)  # fmt: skip
def test_bad_tuning_settings_are_one_line_errors(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tune", "--out", str(tmp_path / "s"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err, err
    assert not (tmp_path / "s").exists()


def test_the_api_refuses_unknown_settings() -> None:
    with pytest.raises(PgradError, match="bad tuning setting"):
        pgrad.tune(pgrad.make_config(), trails=3)
    assert TuneConfig().trials == 20

