"""The command line as a user meets it: train, eval, --help and bad input."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from _envs import TEXT_OBS_ID, TUPLE_ACTION_ID
from pgrad.algos import ALGORITHMS
from pgrad.cli import main
from pgrad.config import SECTIONS


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
    versions = summary["versions"]
    assert {"pgrad", "python", "torch", "gymnasium", "numpy", "git_commit"} <= versions.keys()
    assert versions["torch"].startswith("2.") and summary["psi"] == "reward_to_go+mean"
    assert summary["env_steps"] >= 2000
    config = json.loads((run / "config.json").read_text())
    assert config["run"]["run_dir"] == str(run) and config["run"]["total_env_steps"] == 2000
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


def _options(cls: type) -> list[str]:
    """Every flag of a config: its own fields and its sections' (``id`` is spelled ``--env``)."""
    out = []
    for field in dataclasses.fields(cls):
        if field.name in SECTIONS:
            out += _options(SECTIONS[field.name])
        else:
            out.append("--env" if field.name == "id" else "--" + field.name.replace("_", "-"))
    return out


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_help_documents_every_option_with_its_default(
    algo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["train", algo, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    options = _options(ALGORITHMS[algo].Config)
    for option in options:
        assert option in text, option
    assert text.count("(default:") >= len(options)
    for section in SECTIONS:  # grouped, one box per section
        assert f"{section} options" in text
    # An option of another algorithm is not offered.
    other = "--clip-coef" if algo != "ppo" else "--episodes-per-update"
    assert other not in text and "{None}" not in text


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["train", "--env", "CartPol-v1"], "did you mean CartPole-v1"),
        (["train", "--lr", "-0.1"], "lr must be a positive number"),
        (["train", "--num-envs", "0"], "num_envs must be a positive integer"),
        (["train", "--lr", "fast"], "could not convert string to float"),
        (["train", "--baseline", "None"], "--baseline"),
        (["train", "--activation", "gelu"], "--activation"),
        (["train", "sac"], "unknown algorithm 'sac'"),
        (["train", "--algo", "ppo"], "name the algorithm as a subcommand"),
        (["train", "ppo", "--episodes-per-update", "4"], "--episodes-per-update"),
        (["train", "--config", "no/such/config.json"], "cannot read config"),
        (["train", "--env", TUPLE_ACTION_ID], "action space Tuple"),
        (["train", "--env", TEXT_OBS_ID], "observation space Text"),
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


def test_paths_with_commas_and_booleans_as_flags(tmp_path: Path, capsys) -> None:
    run = tmp_path / "a,b"
    args = ["train", "--run-dir", str(run), "--total-env-steps", "200", "--episodes-per-update",
            "2", "--num-envs", "2", "--eval-episodes", "2", "--no-progress", "--no-tensorboard",
            "--no-normalize-observations", "--target-return", "none"]  # fmt: skip
    assert main(args) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["policy"]["normalize_observations"] is False
    assert config["eval"]["target_return"] == "none"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["target_return"] is None and summary["env_steps"] >= 200  # the whole budget


def test_config_file_is_a_starting_point_that_flags_override(tmp_path: Path, capsys) -> None:
    first = tmp_path / "first"
    base = ["--total-env-steps", "100", "--num-envs", "2", "--eval-episodes", "2", "--no-progress",
            "--no-tensorboard"]  # fmt: skip
    assert main(["train", "a2c", *base, "--num-steps", "7", "--run-dir", str(first)]) == 0
    second = tmp_path / "second"
    argv = ["train", "--config", str(first / "config.json"), "--run-dir", str(second), "--lr",
            "0.002"]  # fmt: skip
    assert main(argv) == 0
    config = json.loads((second / "config.json").read_text())
    assert config["algo"] == "a2c" and config["num_steps"] == 7 and config["optim"]["lr"] == 0.002
    assert main(["train", "ppo", "--config", str(first / "config.json")]) == 2
    assert "the config is for 'a2c'" in capsys.readouterr().err


def test_version_and_help_into_a_closed_pipe() -> None:
    proc = subprocess.run([sys.executable, "-m", "pgrad.cli", "--version"], capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.startswith("pgrad ")
    # `pgrad train --help | head -1`: the reader leaves after one line.
    proc = subprocess.run(
        f"{sys.executable} -m pgrad.cli train ppo --help | head -1", shell=True,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.stdout.startswith("usage: pgrad train ppo"), proc.stdout
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


def test_a_runs_config_starts_a_new_run_in_a_new_directory(tmp_path: Path, monkeypatch,
                                                           fast_train_args) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert main(["train", *fast_train_args, "--no-tensorboard"]) == 0
    first = tmp_path / "run"
    assert main(["train", "--config", str(first / "config.json"), "--seed", "2"]) == 0
    (second,) = (tmp_path / "runs").iterdir()  # the default directory of seed 2
    assert json.loads((second / "config.json").read_text())["run"]["seed"] == 2
    (tmp_path / "mine.toml").write_text(f'[run]\nrun_dir = "{tmp_path / "chosen"}"\n'
                                        "total_env_steps = 500\nprogress = false\n")
    assert main(["train", "--config", str(tmp_path / "mine.toml")]) == 0
    assert (tmp_path / "chosen" / "summary.json").is_file()  # a directory a file names is kept
