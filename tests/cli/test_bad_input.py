"""Bad input, systematically: every option of every algorithm with malformed values, through the
command line and the Python API. Each is refused with one line naming the problem: exit 2 and no
traceback from the CLI, a ``PgradError`` from the API, and no run directory left behind."""

from __future__ import annotations

import dataclasses
import math
import typing
from pathlib import Path

import pytest

import pgrad
from _envs import TEXT_OBS_ID
from pgrad.algos import ALGORITHMS
from pgrad.cli import main
from pgrad.config import LIMITS, SECTIONS

QUICK_ENV = "pgrad/Chain-v0"
"""A fast environment for the cases that do not test the environment itself."""

POSITIVE = {"num_envs", "episodes_per_update", "num_steps", "total_env_steps", "eval_episodes",
            "torch_threads", "keep_checkpoints", "update_epochs", "num_minibatches"}  # fmt: skip
POSITIVE_FLOAT = {"lr", "value_lr", "clip_coef"}
FREE_FLOAT = {"init_log_std"}  # any value in [-20, 2]
RANGES = {"gamma": ["0", "1.5", "-0.5"], "gae_lambda": ["-0.1", "1.01"],
          "init_log_std": ["-21", "2.5", "100"]}  # fmt: skip


def _fields(cls: type) -> list[tuple[str, object]]:
    """(flag name, annotated type) of every option of an algorithm's config."""
    out = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in SECTIONS:
            out += _fields(SECTIONS[f.name])
        else:
            out.append(("env" if f.name == "id" else f.name, hints[f.name]))
    return out


def _bad_values(name: str, tp: object) -> list[str]:
    origin, _args = typing.get_origin(tp), typing.get_args(tp)
    if name == "env":
        return ["", "NoSuchEnv-v9", "nosuchmod_qq:Env-v0", "pgrad/FiniteMDP-v0"]
    if name == "run_dir":
        return ["{file}/sub"]
    if name == "env_kwargs":
        return ["novalue", "=3", "1x=2"]
    if name == "gym_packages":
        return ["no_such_package_qq"]
    if name in ("wandb_project", "wandb_entity"):
        return ["team/project", "has space", "-dash", "x" * 129] + [""] * (name == "wandb_project")
    if tp is bool:
        return ["=maybe"]
    if origin is tuple:  # hidden sizes
        return ["0", "-3", "abc", "5000", "1.5"]
    if origin is typing.Literal:
        return ["bogus", "", "None"]
    if name == "target_return":
        return ["abc", "nan", "inf", "-inf", ""]
    if tp is int:
        values = ["abc", "", "1.5", "nan", "-1", "1e400"]
        values += ["0"] if name in POSITIVE else []
        values += [str(LIMITS[name] + 1)] if name in LIMITS else []
        return values
    if tp is float:
        values = ["abc", "", "nan", "inf", "-inf", *RANGES.get(name, [])]
        values += ["-1"] if name not in FREE_FLOAT and name not in RANGES else []
        values += ["0"] if name in POSITIVE_FLOAT else []
        return values
    return ["abc"]


CASES = [
    (algo, name, value)
    for algo in ALGORITHMS
    for name, tp in _fields(ALGORITHMS[algo].Config)
    for value in _bad_values(name, tp)
    if algo in ("reinforce", "ppo") or name in {f.name for f in
                                                dataclasses.fields(ALGORITHMS[algo].Config)}
]  # fmt: skip
COMBINATIONS = [
    ["ppo", "--num-envs", "3", "--num-steps", "5", "--num-minibatches", "4"],
    ["ppo", "--num-envs", "2", "--num-steps", "2", "--num-minibatches", "8"],
    ["ppo", "--num-envs", "4096", "--num-steps", "1000000"],
    ["reinforce", "--psi", "gae"], ["reinforce", "--psi", "gae", "--baseline", "mean"],
    ["vpg", "--baseline", "none"], ["reinforce", "--hidden-sizes", *["8"] * 17],
    ["train-typo", "--env", "CartPole-v1"], ["ppo", "--episodes-per-update", "4"],
    ["reinforce", "--clip-coef", "0.1"], ["a2c", "--update-epochs", "3"],
    ["reinforce", "--config", "{file}"], ["reinforce", "--resume", "{tmp}"],
    ["reinforce", "--algo", "ppo"], ["reinforce", "--unknown-option", "1"],
    ["reinforce", "--env", TEXT_OBS_ID], ["reinforce", "--env", QUICK_ENV, "--seed", "2e3"],
]  # fmt: skip


def _run(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    (tmp_path / "file").write_text("not a directory")
    argv = [a.replace("{file}", str(tmp_path / "file")).replace("{tmp}", str(tmp_path))
            for a in argv]  # fmt: skip
    assert main(["train", *argv, "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    assert not run.exists()


@pytest.mark.parametrize(("algo", "name", "value"), CASES)
def test_every_option_with_malformed_values(
    algo: str, name: str, value: str, tmp_path: Path, capsys
) -> None:
    flag = "--" + name.replace("_", "-")
    option = [f"{flag}{value}"] if value.startswith("=") else [flag, value]
    quick = [] if name in ("env", "total_env_steps") else ["--env", QUICK_ENV]
    quick += [] if name == "total_env_steps" else ["--total-env-steps", "50"]
    if name == "run_dir":  # the option itself is the run directory: under a regular file
        (tmp_path / "file").write_text("not a directory")
        option = [flag, str(tmp_path / "file" / "sub")]
        assert main(["train", algo, *quick, *option, "--no-progress"]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
        assert (tmp_path / "file").read_text() == "not a directory"
        return
    _run([algo, *quick, *option, "--no-progress"], tmp_path, capsys)


@pytest.mark.parametrize("argv", COMBINATIONS, ids=lambda a: " ".join(a)[:40])
def test_invalid_combinations(argv: list[str], tmp_path: Path, capsys) -> None:
    _run(argv, tmp_path, capsys)


API_VALUES: list[object] = ["abc", None, [], math.nan, math.inf, -1, 10**20, True, 1.5, ""]


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_the_api_raises_pgrad_errors_only(algo: str, tmp_path: Path) -> None:
    tried = refused = 0
    for name, _ in _fields(ALGORITHMS[algo].Config):
        for value in API_VALUES:
            kwargs = {name: value, "run_dir": tmp_path / "run", "env": QUICK_ENV}
            if name == "env":
                kwargs["env"] = value
            tried += 1
            try:
                pgrad.make_config(algo, **kwargs)
            except pgrad.PgradError as exc:
                assert "\n" not in str(exc)
                refused += 1
    assert not (tmp_path / "run").exists()
    assert refused >= tried // 2  # most are wrong; what passes is well-typed (e.g. 1.5 as lr)
