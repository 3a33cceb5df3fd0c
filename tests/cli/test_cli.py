"""The command line as a user meets it: train, eval, --help and bad input."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from _envs import MULTI_DISCRETE_ID
from pgrad.cli import main
from pgrad.config import Config


def test_train_writes_the_run_directory_then_eval_reads_it(
    tmp_path: Path, fast_train_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", *fast_train_args]) == 0
    run = tmp_path / "run"
    out = capsys.readouterr().out
    assert "CartPole-v1" in out and str(run) in out and "final evaluation" in out
    for name in ("config.json", "metrics.csv", "learning_curve.png", "summary.json"):
        assert (run / name).is_file(), name
    for name in ("final", "best"):
        assert (run / "checkpoints" / f"{name}.safetensors").is_file()
        assert (
            json.loads((run / "checkpoints" / f"{name}.json").read_text())["env"] == "CartPole-v1"
        )
    assert any((run / "tensorboard").glob("events.out.tfevents.*"))
    summary = json.loads((run / "summary.json").read_text())
    assert {"solved", "env_steps", "wall_seconds", "eval_mean", "eval_std"} <= summary.keys()
    assert summary["env_steps"] >= 2000
    config = json.loads((run / "config.json").read_text())
    assert config["run_dir"] == str(run) and config["total_env_steps"] == 2000
    assert len((run / "metrics.csv").read_text().splitlines()) == summary["updates"] + 1

    assert main(["eval", str(run), "--episodes", "7", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["episodes"] == 7 and result["std"] >= 0 and 1 <= result["mean"] <= 500
    checkpoint = run / "checkpoints" / "best.safetensors"
    assert main(["eval", str(checkpoint), "--episodes", "3", "--deterministic"]) == 0
    assert "over 3 episodes (deterministic actions)" in capsys.readouterr().out


def test_gaussian_policy_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "pendulum"
    args = ["train", "--env", "Pendulum-v1", "--total-env-steps", "800", "--num-envs", "2",
            "--episodes-per-update", "2", "--eval-episodes", "2", "--no-progress",
            "--no-tensorboard", "--run-dir", str(run)]  # fmt: skip
    assert main(args) == 0
    assert json.loads((run / "summary.json").read_text())["env_steps"] == 800
    assert main(["eval", str(run), "--episodes", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert result["env"] == "Pendulum-v1" and result["mean"] < 0


def test_help_documents_every_option_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["train", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for field in dataclasses.fields(Config):
        assert "--" + field.name.replace("_", "-") in text, field.name
    assert text.count("(default:") >= len(dataclasses.fields(Config)) - 2  # bool flags pair up


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["train", "--env", "CartPol-v1"], "did you mean CartPole-v1"),
        (["train", "--lr", "-0.1"], "lr must be a positive number"),
        (["train", "--num-envs", "0"], "num_envs must be a positive integer"),
        (["train", "--lr", "fast"], "could not convert string to float"),
        (["train", "--env", MULTI_DISCRETE_ID], "action space MultiDiscrete"),
        (["train", "--env", "Blackjack-v1"], "observation space Tuple"),
        (["eval", "pyproject.toml"], "is not a pgrad checkpoint"),
        (["eval", "no/such/run"], "does not exist"),
        (["eval", "."], "is not a pgrad run directory"),
        (["fly"], "unknown command"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(
    argv: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if argv[0] == "train":
        argv = [*argv, "--run-dir", str(tmp_path / "run")]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], captured.err
    assert not (tmp_path / "run").exists()


def test_existing_run_directory_is_never_overwritten(
    tmp_path: Path, fast_train_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.csv").write_text("precious\n")
    assert main(["train", *fast_train_args]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (run / "metrics.csv").read_text() == "precious\n"
    assert sorted(p.name for p in run.iterdir()) == ["metrics.csv"]


def test_installed_command_prints_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pgrad.cli", "train", "--env", "CartPol-v1"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: unknown environment id 'CartPol-v1'; did you mean ")
    assert "CartPole-v1" in lines[0]
