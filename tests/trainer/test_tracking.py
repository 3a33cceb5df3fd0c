"""--track: the run's config, metrics rows and summary reach Weights & Biases.

A stand-in for ``wandb.init`` records what pgrad sends; one test runs the real wandb offline.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

import pgrad
from pgrad.cli import main

wandb = pytest.importorskip("wandb")

QUICK = ["--total-env-steps", "3000", "--episodes-per-update", "4", "--num-envs", "4",
         "--eval-interval", "2", "--eval-episodes", "3", "--target-return", "none",
         "--no-progress", "--no-tensorboard"]  # fmt: skip


class StandInRun:
    """What a W&B run is sent."""

    def __init__(self, **init: Any) -> None:
        self.init, self.logged, self.summary, self.exit_code = init, [], {}, None

    def log(self, data: dict[str, float], step: int) -> None:
        self.logged.append((step, dict(data)))

    def finish(self, exit_code: int = 0) -> None:
        self.exit_code = exit_code


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[StandInRun]:
    started: list[StandInRun] = []

    def init(**kwargs: Any) -> StandInRun:
        started.append(StandInRun(**kwargs))
        return started[-1]

    monkeypatch.setattr(wandb, "init", init)
    return started


def test_track_sends_the_config_every_row_and_the_summary(
    tmp_path: Path, runs: list[StandInRun]
) -> None:
    run_dir = tmp_path / "run"
    assert main(["train", *QUICK, "--track", "--wandb-project", "cartpole-study",
                 "--wandb-entity", "lab", "--run-dir", str(run_dir)]) == 0  # fmt: skip
    (run,) = runs
    assert run.init["project"] == "cartpole-study" and run.init["entity"] == "lab"
    assert run.init["name"] == "run" and run.init["dir"] == str(run_dir)
    assert run.init["config"] == json.loads((run_dir / "config.json").read_text())
    with (run_dir / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [step for step, _ in run.logged] == [int(r["env_steps"]) for r in rows]
    for (_, sent), row in zip(run.logged, rows, strict=True):
        assert sent == {k: float(v) for k, v in row.items() if v != "" and k != "env_steps"}
    assert any("eval/return_mean" in sent for _, sent in run.logged)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert run.summary["eval_mean"] == summary["eval_mean"] and run.exit_code == 0


def test_a_resumed_run_continues_the_same_wandb_run(tmp_path: Path,
                                                    runs: list[StandInRun]) -> None:  # fmt: skip
    run_dir = tmp_path / "run"
    assert main(["train", *QUICK, "--track", "--run-dir", str(run_dir)]) == 0
    assert main(["train", "--resume", str(run_dir), "--total-env-steps", "6000"]) == 0
    first, resumed = runs
    assert resumed.init["id"] == first.init["id"] and resumed.init["resume"] == "allow"
    assert resumed.logged[0][0] > first.logged[-1][0]  # it goes on from the last logged step


def test_without_track_wandb_is_never_started(tmp_path: Path, runs: list[StandInRun]) -> None:
    pgrad.train(env="CartPole-v1", total_env_steps=1000, progress=False, tensorboard=False,
                run_dir=tmp_path / "run")  # fmt: skip
    assert runs == [] and not (tmp_path / "run" / "wandb").exists()


def test_track_without_wandb_or_a_login_fails_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    def refuse(**kwargs: Any) -> None:
        raise wandb.errors.UsageError("api_key not configured (no-tty). call wandb.login(key=...)")

    monkeypatch.setattr(wandb, "init", refuse)
    assert main(["train", *QUICK, "--track", "--run-dir", str(tmp_path / "a")]) == 2
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "wandb" else find_spec(name, *a))
    assert main(["train", *QUICK, "--track", "--run-dir", str(tmp_path / "b")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all(e.startswith("error: ") for e in errors)
    assert "wandb login" in errors[0] and 'pip install -e ".[track]"' in errors[1]
    assert list(tmp_path.iterdir()) == []


def test_the_real_wandb_logs_offline_into_the_run_directory(tmp_path: Path,
                                                            monkeypatch) -> None:  # fmt: skip
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    run_dir = tmp_path / "run"
    assert main(["train", *QUICK, "--track", "--run-dir", str(run_dir)]) == 0
    (offline,) = (run_dir / "wandb").glob("offline-run-*")
    run_id = offline.name.rsplit("-", 1)[1]
    log = offline / f"run-{run_id}.wandb"
    assert log.stat().st_size > 0
