"""Environments a user brings: MODULE:ID, keyword arguments, packages that register, factories."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import gymnasium as gym
import pytest

import pgrad
from pgrad.cli import main
from pgrad.config import EnvConfig
from pgrad.envs.make import make_vector_env
from pgrad.trainer.logging import TIMING_COLUMNS

QUICK = ["--total-env-steps", "100", "--episodes-per-update", "2", "--num-envs", "2",
         "--eval-episodes", "2", "--no-progress", "--no-tensorboard"]  # fmt: skip


def _module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, env_id: str) -> None:
    """A module that registers ``env_id`` (CartPole under another name) when imported."""
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(f"""
        import gymnasium as gym
        from gymnasium.envs.classic_control import CartPoleEnv
        if {env_id!r} not in gym.registry:
            gym.register({env_id!r}, entry_point=CartPoleEnv, max_episode_steps=50)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))


def test_module_colon_id_imports_the_module(tmp_path: Path, monkeypatch, capsys) -> None:
    _module(tmp_path, monkeypatch, "my_envs_colon", "pgrad-test/Colon-v0")
    run = tmp_path / "run"
    args = ["train", "--env", "my_envs_colon:pgrad-test/Colon-v0", *QUICK, "--run-dir", str(run)]
    assert main(args) == 0
    assert json.loads((run / "config.json").read_text())["env"]["id"].startswith("my_envs_colon:")
    assert main(["eval", str(run), "--episodes", "2"]) == 2  # a checkpoint's module: not imported
    assert "pass --trust-env-module" in capsys.readouterr().err
    assert main(["eval", str(run), "--episodes", "2", "--trust-env-module"]) == 0


def test_gym_packages_are_imported_first(tmp_path: Path, monkeypatch, capsys) -> None:
    _module(tmp_path, monkeypatch, "my_envs_pkg", "pgrad-test/Pkg-v0")
    args = ["train", "--gym-packages", "my_envs_pkg", "--env", "pgrad-test/Pkg-v0", *QUICK,
            "--run-dir", str(tmp_path / "run")]  # fmt: skip
    assert main(args) == 0
    assert main(["train", "--gym-packages", "no_such_package_xyz", *QUICK]) == 2
    err = capsys.readouterr().err
    assert "cannot import 'no_such_package_xyz' from --gym-packages" in err


def test_missing_module_and_bad_kwargs_are_one_line_errors(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", "--env", "no_such_mod_xyz:Foo-v0", *QUICK, "--run-dir", str(run)]) == 2
    assert "cannot import module 'no_such_mod_xyz'" in capsys.readouterr().err
    argv = ["train", "--env", "Pendulum-v1", "--env-kwargs", "gravity_typo=1", *QUICK]
    assert main([*argv, "--run-dir", str(run)]) == 2
    assert "with env_kwargs {'gravity_typo': 1}" in capsys.readouterr().err
    assert not run.exists()


def test_env_kwargs_reach_the_environment() -> None:
    envs, _ = make_vector_env(EnvConfig(id="Pendulum-v1", env_kwargs=("g=2.5",)), 2)
    assert [e.unwrapped.g for e in envs.envs] == [2.5, 2.5]
    envs.close()


def _metrics(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "metrics.csv").open() as f:
        return [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in csv.DictReader(f)]


def test_async_vectorisation_gives_the_same_run_as_sync(tmp_path: Path) -> None:
    """Fixed-length rollouts step every copy at every step, in either mode. (Complete-episode
    batches differ: in process, copies idling for the batch's last episodes are not stepped, where
    the async workers step them; see test_idle_steps.py.)"""
    for mode in ("sync", "async"):
        pgrad.train(algo="ppo", env="CartPole-v1", vectorization_mode=mode,
                    total_env_steps=512, num_envs=4, num_steps=32, eval_episodes=2,
                    progress=False, tensorboard=False, run_dir=tmp_path / mode)  # fmt: skip
    assert _metrics(tmp_path / "sync") == _metrics(tmp_path / "async")


def test_api_takes_a_factory_and_refuses_an_instance(tmp_path: Path) -> None:
    def my_cartpole() -> gym.Env:
        return gym.make("CartPole-v1", max_episode_steps=30)

    result = pgrad.train(env=my_cartpole, total_env_steps=200, episodes_per_update=2,
                         num_envs=2, eval_episodes=2, progress=False, tensorboard=False,
                         run_dir=tmp_path / "run")  # fmt: skip
    assert result.env_steps >= 200 and result.evaluation.lengths.max() <= 30
    assert result.policy.spec.env.env_id.startswith("pgrad-user/my_cartpole")
    with pytest.raises(pgrad.PgradError, match="pass a factory"):
        pgrad.train(env=gym.make("CartPole-v1"), run_dir=tmp_path / "other")
    assert not (tmp_path / "other").exists()
