"""Config validation and round trips: each bad value is refused, naming it and a fix."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

import pgrad
from pgrad.algos import ALGORITHMS, load_config
from pgrad.config import EvalConfig, RunConfig
from pgrad.errors import PgradError


@pytest.mark.parametrize(
    ("algo", "field", "value", "words"),
    [
        ("reinforce", "lr", -0.1, "lr must be a positive number"),
        ("reinforce", "lr", math.nan, "lr must be a positive number"),
        ("reinforce", "num_envs", 0, "num_envs must be a positive integer"),
        ("reinforce", "episodes_per_update", 0, "episodes_per_update must be a positive integer"),
        ("reinforce", "gamma", 0.0, "gamma must be in (0, 1]"),
        ("reinforce", "gamma", 1.5, "gamma must be in (0, 1]"),
        ("reinforce", "total_env_steps", -5, "total_env_steps must be a positive integer"),
        ("reinforce", "eval_episodes", 0, "eval_episodes must be a positive integer"),
        ("reinforce", "eval_interval", -1, "eval_interval must be an integer >= 0"),
        ("reinforce", "hidden_sizes", (64, 0), "hidden_sizes must be positive integers"),
        ("reinforce", "max_episode_steps", -1, "max_episode_steps must be an integer >= 0"),
        ("reinforce", "env", " ", "env must name a Gymnasium environment"),
        ("reinforce", "gae_lambda", 1.5, "gae_lambda must be in [0, 1]"),
        ("reinforce", "psi", "gae", "psi gae needs a learned value function"),
        ("reinforce", "baseline", "None", "baseline must be one of none, mean, value"),
        ("reinforce", "activation", "gelu", "activation must be one of tanh, relu"),
        ("reinforce", "target_return", math.inf, "target_return must be a finite number"),
        ("reinforce", "entropy_coef", -0.1, "entropy_coef must be a number >= 0"),
        ("reinforce", "value_epochs", -1, "value_epochs must be an integer >= 0"),
        ("reinforce", "env_kwargs", ("g",), "env_kwargs item 'g' is not KEY=VALUE"),
        ("ppo", "num_minibatches", 3, "num_minibatches (3) must divide"),
        ("ppo", "clip_coef", 0.0, "clip_coef must be positive"),
        ("a2c", "value_coef", -1.0, "value_coef must be a number >= 0"),
    ],
)
def test_bad_values_are_refused(algo: str, field: str, value: object, words: str) -> None:
    with pytest.raises(PgradError) as info:
        pgrad.make_config(algo, **{field: value})
    message = str(info.value)
    assert words in message
    assert "\n" not in message


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_json_round_trip(algo: str, tmp_path: Path) -> None:
    cfg = pgrad.make_config(algo, env="Acrobot-v1", hidden_sizes=(8, 8), run_dir="x/y",
                            target_return=-90.0, env_kwargs=("a=1",))  # fmt: skip
    assert type(cfg).from_json(cfg.to_json()) == cfg
    path = tmp_path / "config.json"
    path.write_text(cfg.dumps())
    assert load_config(path) == cfg
    assert cfg.run.run_dir == Path("x/y")  # the API takes a string path


def test_toml_config(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('algo = "ppo"\nnum_steps = 64\n[env]\nid = "Acrobot-v1"\n[optim]\nlr = 1e-3\n')
    cfg = load_config(path)
    assert (cfg.algo, cfg.num_steps, cfg.env.id, cfg.optim.lr) == ("ppo", 64, "Acrobot-v1", 1e-3)
    assert cfg.optim.lr_schedule == "linear"  # the rest keeps PPO's defaults


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"learning_rate": 0.1}, "unknown config keys ['learning_rate']"),
        ({"optim": {"learning_rate": 0.1}}, "in section 'optim'"),
        ({"optim": 3}, "config section 'optim' must be an object"),
        ({"algo": "sac"}, "unknown algorithm 'sac'"),
    ],
)
def test_unknown_keys_are_refused(data: dict, words: str, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data))
    with pytest.raises(PgradError, match=words.replace("[", r"\[").replace("]", r"\]")):
        load_config(path)


def test_each_algorithm_has_its_own_real_defaults() -> None:
    ppo, reinforce, a2c = pgrad.PPOConfig(), pgrad.ReinforceConfig(), pgrad.A2CConfig()
    assert (ppo.optim.lr, ppo.recipe.name, ppo.clip_coef) == (2.5e-4, "gae+lambda=0.95", 0.2)
    assert (reinforce.optim.lr, reinforce.recipe.name, reinforce.gamma) == (
        0.05, "reward_to_go+mean", 1.0)  # fmt: skip
    assert reinforce.policy.normalize_observations and not ppo.policy.normalize_observations
    intervals = (reinforce.eval.eval_interval, ppo.eval.eval_interval, a2c.eval.eval_interval)
    assert intervals == (5, 10, 250)
    assert pgrad.make_config("ppo", lr=1e-3).optim.lr == 1e-3  # an explicit value wins
    assert pgrad.VPGConfig().recipe.name == "gae+lambda=0.97+std"
    assert not hasattr(ppo, "episodes_per_update") and not hasattr(reinforce, "clip_coef")


def test_ppo_learning_rate_schedule_is_linear_by_default() -> None:
    # The sentinel design's failure: PPO's documented linear schedule never took effect.
    assert pgrad.PPOConfig().optim.lr_schedule == "linear"
    assert pgrad.A2CConfig().optim.lr_schedule == "constant"


def test_no_field_defaults_to_none_except_the_generated_run_directory() -> None:
    def walk(obj: object) -> list[str]:
        out = []
        for f in dataclasses.fields(obj):  # type: ignore[arg-type]
            value = getattr(obj, f.name)
            out += walk(value) if dataclasses.is_dataclass(value) else []
            out += [f.name] if value is None else []
        return out

    for module in ALGORITHMS.values():
        assert walk(module.Config()) == ["run_dir"]


def test_target_return_threshold_number_or_none() -> None:
    assert EvalConfig().target(475.0) == 475.0
    assert EvalConfig(target_return="none").target(475.0) is None
    assert EvalConfig(target_return=10).target(475.0) == 10.0
    assert RunConfig(run_dir="a,b").run_dir == Path("a,b")  # type: ignore[arg-type]
