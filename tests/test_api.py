"""The Python API: train, load, act, evaluate."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import pgrad


def test_train_load_act(tmp_path: Path) -> None:
    result = pgrad.train(
        pgrad.make_config(total_env_steps=1500, eval_episodes=3, progress=False, tensorboard=False),
        run_dir=tmp_path / "run", env="Acrobot-v1", episodes_per_update=2, num_envs=2,
    )  # fmt: skip
    assert result.run_dir == tmp_path / "run" and result.env_steps >= 1500
    assert result.evaluation.episodes == 3 and not result.solved
    policy = pgrad.load_policy(result.run_dir)
    assert policy.env_id == "Acrobot-v1"
    env = gym.make("Acrobot-v1")
    obs, _ = env.reset(seed=0)
    action = policy.act(obs)
    assert env.action_space.contains(action)
    batch = policy.act(np.stack([obs, obs]), deterministic=True)
    assert batch.shape == (2,) and batch[0] == batch[1]
    evaluation = pgrad.evaluate(policy, episodes=2, seed=1)
    assert evaluation.episodes == 2 and (evaluation.returns >= -500).all()


def test_box_actions_come_clipped(tmp_path: Path) -> None:
    result = pgrad.train(
        env="Pendulum-v1", total_env_steps=400, episodes_per_update=2, num_envs=2,
        eval_episodes=1, init_log_std=2.0, run_dir=tmp_path / "p", progress=False,
        tensorboard=False,
    )  # fmt: skip
    policy = pgrad.load_policy(result.run_dir / "checkpoints" / "final.safetensors")
    actions = policy.act(np.zeros((500, 3), np.float32))
    assert actions.shape == (500, 1) and np.abs(actions).max() <= 2.0


def test_keyword_algo_takes_its_own_defaults(tmp_path: Path) -> None:
    result = pgrad.train(
        algo="a2c", total_env_steps=200, num_envs=2, eval_episodes=2, run_dir=tmp_path / "run",
        progress=False, tensorboard=False,
    )  # fmt: skip
    assert result.policy.spec.value == "separate" and result.env_steps >= 200
    with pytest.raises(pgrad.PgradError, match="cannot switch algo"):
        pgrad.train(pgrad.make_config(), algo="ppo")
