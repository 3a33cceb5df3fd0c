"""Config validation: each bad value is refused with a message naming it and a fix."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pgrad.config import Config
from pgrad.errors import PgradError


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("lr", -0.1, "lr must be a positive number"),
        ("lr", math.nan, "lr must be a positive number"),
        ("num_envs", 0, "num_envs must be a positive integer"),
        ("episodes_per_update", 0, "episodes_per_update must be a positive integer"),
        ("gamma", 0.0, "gamma must be in (0, 1]"),
        ("gamma", 1.5, "gamma must be in (0, 1]"),
        ("total_env_steps", -5, "total_env_steps must be a positive integer"),
        ("eval_episodes", 0, "eval_episodes must be a positive integer"),
        ("eval_interval", -1, "eval_interval must be >= 0"),
        ("hidden_sizes", (64, 0), "hidden_sizes must be positive integers"),
        ("max_episode_steps", 0, "max_episode_steps must be a positive integer"),
        ("env", " ", "env must name a Gymnasium environment"),
        ("algo", "sac", "algo must be one of reinforce, vpg, a2c, ppo"),
        ("gae_lambda", 1.5, "gae_lambda must be in [0, 1]"),
        ("psi", "gae", "psi gae needs a learned value function"),
        ("num_minibatches", 3, "num_minibatches (3) must divide"),
        ("clip_coef", 0.0, "clip_coef must be positive"),
        ("entropy_coef", -0.1, "entropy_coef must be >= 0"),
        ("value_epochs", -1, "value_epochs must be an integer >= 0"),
    ],
)
def test_bad_values_are_refused(field: str, value: object, words: str) -> None:
    algo = "ppo" if field == "num_minibatches" else "reinforce"
    with pytest.raises(PgradError) as info:
        Config(**{"algo": algo, field: value})  # type: ignore[arg-type]
    message = str(info.value)
    assert words in message
    assert "\n" not in message


def test_json_round_trip() -> None:
    cfg = Config(env="Acrobot-v1", hidden_sizes=(8, 8), run_dir=Path("x/y"), target_return=-90.0)
    assert Config.from_json(cfg.to_json()) == cfg


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(PgradError, match="unknown config keys"):
        Config.from_json({"learning_rate": 0.1})


def test_each_algorithm_fills_its_own_defaults() -> None:
    ppo, reinforce = Config(algo="ppo"), Config()
    assert (ppo.lr, ppo.psi, ppo.baseline, ppo.clip_coef) == (2.5e-4, "gae", "value", 0.2)
    assert (reinforce.lr, reinforce.psi, reinforce.gamma) == (0.05, "reward_to_go", 1.0)
    assert reinforce.normalize_observations and not ppo.normalize_observations
    intervals = (reinforce.eval_interval, ppo.eval_interval, Config(algo="a2c").eval_interval)
    assert intervals == (1, 10, 250)
    assert Config(algo="ppo", lr=1e-3).lr == 1e-3  # an explicit value wins
    assert not ppo.episodic and reinforce.episodic
