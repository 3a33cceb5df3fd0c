"""Every algorithm trains from the CLI and the API, on discrete and continuous actions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import pgrad
from pgrad.algos import ALGORITHMS
from pgrad.cli import main

SMOKE = {
    "reinforce": ["--episodes-per-update", "2", "--num-envs", "2"],
    "vpg": ["--episodes-per-update", "2", "--num-envs", "2", "--value-epochs", "2"],
    "a2c": ["--num-envs", "2", "--num-steps", "5"],
    "ppo": ["--num-envs", "2", "--num-steps", "16", "--num-minibatches", "2",
            "--update-epochs", "2", "--target-kl", "0.5", "--value-clip", "0.2"],
    "npg": ["--num-envs", "2", "--num-steps", "16", "--cg-iters", "3", "--value-epochs", "2"],
    "trpo": ["--rollout", "episodes", "--episodes-per-update", "2", "--num-envs", "2",
             "--psi", "reward_to_go", "--baseline", "mean", "--backtrack-iters", "3"],
}  # fmt: skip


@pytest.mark.parametrize("env", ["CartPole-v1", "Pendulum-v1"])
@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_two_updates_from_the_cli(algo: str, env: str, tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = ["train", algo, "--env", env, *SMOKE[algo], "--total-env-steps", "60",
            "--eval-episodes", "2", "--no-progress", "--no-tensorboard",
            "--run-dir", str(run)]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((run / "summary.json").read_text())
    config = json.loads((run / "config.json").read_text())
    assert config["algo"] == algo and summary["updates"] >= 1
    assert json.loads((run / "checkpoints" / "final.json").read_text())["algo"] == algo
    assert main(["eval", str(run), "--episodes", "2"]) == 0


@pytest.mark.parametrize("algo", ["a2c", "ppo", "vpg"])
def test_api_with_normalisation_and_shared_network(algo: str, tmp_path: Path) -> None:
    own = {"vpg": dict(episodes_per_update=2), "a2c": dict(num_steps=20),
           "ppo": dict(num_steps=20, num_minibatches=2)}[algo]  # fmt: skip
    result = pgrad.train(
        pgrad.make_config(algo=algo, env="Pendulum-v1"), num_envs=2, total_env_steps=600,
        eval_episodes=2, normalize_observations=True, normalize_rewards=True,
        value_network="shared", run_dir=tmp_path / "run", progress=False, tensorboard=False,
        **own,
    )  # fmt: skip
    policy = result.policy
    assert float(policy.obs_count) >= 600  # every real observation went into the statistics
    loaded = pgrad.load_policy(result.run_dir)
    for name in ("obs_mean", "obs_var", "obs_count"):
        assert torch.equal(getattr(loaded.module, name), getattr(policy, name))
    before = loaded.module.obs_mean.clone()
    pgrad.evaluate(loaded, episodes=2)
    assert torch.equal(loaded.module.obs_mean, before)  # frozen at evaluation


def test_algorithm_defaults_show_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "ppo", "--help"])
    text = capsys.readouterr().out
    assert "0.00025" in text and "--clip-coef" in text


@pytest.mark.slow
@pytest.mark.parametrize("algo", ["vpg", "a2c", "ppo", "npg", "trpo"])
def test_each_algorithm_solves_cartpole(algo: str, tmp_path: Path) -> None:
    """Most seeds solve with the defaults: two of the first four. (PPO's defaults solved 6 of
    seeds 1 to 8 when measured; a single seed's outcome turns on float rounding, so the claim is
    over seeds.)"""
    outcomes: list[bool] = []
    for seed in (1, 2, 3, 4):
        result = pgrad.train(pgrad.make_config(algo=algo, seed=seed, progress=False,
                                               run_dir=tmp_path / f"run{seed}"))  # fmt: skip
        outcomes.append(result.solved)
        if outcomes.count(True) == 2 or outcomes.count(False) == 3:
            break
    assert outcomes.count(True) == 2, (outcomes, result.summary())


@pytest.mark.parametrize(
    "env", ["InvertedPendulum-v5", "HalfCheetah-v5", "Hopper-v5", "Walker2d-v5"]
)
def test_mujoco_tasks_run(env: str, tmp_path: Path) -> None:
    pytest.importorskip("mujoco")
    result = pgrad.train(
        algo="ppo", env=env, num_envs=1, num_steps=64, num_minibatches=2, total_env_steps=64,
        eval_episodes=1, normalize_observations=True, max_episode_steps=50,
        run_dir=tmp_path / "run", progress=False, tensorboard=False,
    )  # fmt: skip
    assert result.env_steps >= 64 and result.policy.head.action_dtype == np.float32
