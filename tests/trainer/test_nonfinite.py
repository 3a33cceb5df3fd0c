"""Numbers that go non-finite stop the run before they reach the weights; nothing non-finite is
saved, and summary.json stays strict JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import pgrad
from _envs import FAULTY_ID
from pgrad.cli import main
from pgrad.errors import NonFiniteError


def _strict(path: Path) -> dict:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{path} holds {constant}")

    return json.loads(path.read_text(), parse_constant=refuse)


def _all_finite(path: Path) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in load_file(str(path)).values())


@pytest.mark.parametrize("fault", ["nan_obs", "nan_reward", "inf_reward", "huge_reward"])
@pytest.mark.parametrize("algo", ["reinforce", "ppo"])
def test_a_faulty_environment_stops_the_run_cleanly(algo: str, fault: str, tmp_path: Path) -> None:
    run = tmp_path / "run"
    own = dict(episodes_per_update=4) if algo == "reinforce" else dict(num_steps=64)
    with pytest.raises(NonFiniteError) as info:
        pgrad.train(algo=algo, env=FAULTY_ID, env_kwargs=(f'fault="{fault}"', "after=150"),
                    num_envs=4, total_env_steps=50_000, target_return="none", eval_episodes=4,
                    run_dir=run, progress=False, tensorboard=False, **own)  # fmt: skip
    message = str(info.value)
    assert "at update" in message and "final.safetensors holds the last good policy" in message
    assert "\n" not in message
    summary = _strict(run / "summary.json")
    assert summary["failure"] and not summary["solved"]
    for name in ("final", "best"):
        path = run / "checkpoints" / f"{name}.safetensors"
        assert not path.exists() or _all_finite(path), name
        if path.exists():
            _strict(path.with_suffix(".json"))


@pytest.mark.parametrize(
    "args",
    [["ppo", "--env", "Pendulum-v1", "--lr", "1e10"],
     ["ppo", "--env", "Pendulum-v1", "--value-lr", "1e30"]],
)  # fmt: skip
def test_settings_that_diverge_end_with_one_line_and_finite_weights(
    args: list[str], tmp_path: Path, capsys
) -> None:
    run = tmp_path / "run"
    argv = ["train", *args, "--no-preset", "--total-env-steps", "20000", "--num-steps", "256",
            "--no-progress",
            "--no-tensorboard", "--eval-episodes", "2", "--run-dir", str(run)]  # fmt: skip
    status = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    if status == 2:  # diverged: stopped with a message
        assert len(err) == 1 and err[0].startswith("error: ") and "at update" in err[0]
    else:
        assert status == 0
    assert _all_finite(run / "checkpoints" / "final.safetensors")
    _strict(run / "summary.json")


def test_log_std_stays_within_its_bounds() -> None:
    with pytest.raises(pgrad.PgradError, match=r"init_log_std must be in \[-20, 2\]"):
        pgrad.make_config(env="Pendulum-v1", init_log_std=100.0)
