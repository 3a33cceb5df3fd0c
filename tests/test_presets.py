"""Presets: every one a valid config backed by a benchmark row; picked, announced and
overridable on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pgrad
from pgrad.cli import main
from pgrad.presets import all_presets, preset

ROOT = Path(__file__).resolve().parents[1]
CASES = [(algo, env) for algo, envs in all_presets().items() for env in envs]


@pytest.mark.parametrize(("algo", "env"), CASES)
def test_each_preset_is_a_valid_config_backed_by_a_benchmark_row(algo: str, env: str) -> None:
    cfg = pgrad.make_config(algo, env=env, **preset(algo, env))  # type: ignore[arg-type]
    assert cfg.algo == algo and cfg.env.id == env
    row = all_presets()[algo][env]["benchmark"]
    task, label = (p.strip() for p in row.split("|"))
    assert f"| {task} | {label} |" in (ROOT / "docs" / "benchmarks.md").read_text()


def test_the_command_line_starts_from_the_preset_and_flags_override_it(tmp_path: Path,
                                                                       capsys) -> None:  # fmt: skip
    common = ["--total-env-steps", "600", "--num-steps", "64", "--no-progress",
              "--no-tensorboard", "--eval-interval", "0"]  # fmt: skip
    assert main(["train", "ppo", "--env", "Pendulum-v1", "--num-envs", "2", *common,
                 "--run-dir", str(tmp_path / "preset")]) == 0  # fmt: skip
    assert "preset for ppo on Pendulum-v1" in capsys.readouterr().err
    assert main(["train", "ppo", "--env", "Pendulum-v1", "--num-envs", "2", "--no-preset",
                 *common, "--run-dir", str(tmp_path / "plain")]) == 0  # fmt: skip
    assert "preset" not in capsys.readouterr().err
    tuned, plain = (json.loads((tmp_path / n / "config.json").read_text())
                    for n in ("preset", "plain"))  # fmt: skip
    assert tuned["env"]["num_envs"] == plain["env"]["num_envs"] == 2  # the flag wins
    assert tuned["optim"]["lr"] == preset("ppo", "Pendulum-v1")["lr"]  # type: ignore[index]
    assert tuned["gamma"] == 0.9 and plain["gamma"] == pgrad.PPOConfig().gamma
