"""The training loop's contract: stopping rules, Ctrl-C, and evaluation kept apart from training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pgrad
from pgrad.algos import reinforce
from pgrad.trainer.logging import read_metrics


def _cfg(run_dir: Path, **overrides: object) -> pgrad.Config:
    base = dict(
        total_env_steps=3000, episodes_per_update=4, num_envs=4, eval_episodes=4,
        run_dir=run_dir, progress=False, tensorboard=False,
    )  # fmt: skip
    return pgrad.make_config(**{**base, **overrides})  # type: ignore[arg-type]


def test_evaluating_does_not_change_training(tmp_path: Path) -> None:
    pgrad.train(_cfg(tmp_path / "often", eval_interval=1, eval_budget=0))
    pgrad.train(_cfg(tmp_path / "rarely", eval_interval=0))
    often = read_metrics(tmp_path / "often" / "metrics.csv")
    rarely = read_metrics(tmp_path / "rarely" / "metrics.csv")
    assert all("eval/return_mean" in row for row in often)
    assert sum("eval/return_mean" in row for row in rarely) == 1  # the budget's last update
    keys = ("env_steps", "rollout/ep_return_mean", "loss/policy", "opt/grad_norm")
    assert [[r[k] for k in keys] for r in often] == [[r[k] for k in keys] for r in rarely]


def test_stops_when_an_evaluation_reaches_the_target(tmp_path: Path) -> None:
    result = pgrad.train(_cfg(tmp_path / "run", target_return=1.0, total_env_steps=10**6))
    assert result.solved and result.updates == 1 and result.evaluation.mean >= 1.0


def test_budget_is_met_at_an_update_boundary(tmp_path: Path) -> None:
    result = pgrad.train(_cfg(tmp_path / "run", target_return=10**6))
    rows = read_metrics(tmp_path / "run" / "metrics.csv")
    assert not result.solved and result.env_steps >= 3000
    assert rows[-2]["env_steps"] < 3000 <= rows[-1]["env_steps"] == result.env_steps


def test_ctrl_c_still_writes_every_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real_update = reinforce.update

    def update_then_interrupt(*args: object, **kwargs: object) -> dict[str, float]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_update(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reinforce, "update", update_then_interrupt)
    result = pgrad.train(_cfg(tmp_path / "run", total_env_steps=10**6))
    run = tmp_path / "run"
    assert result.interrupted and result.updates == 2
    assert json.loads((run / "summary.json").read_text())["interrupted"] is True
    assert (run / "checkpoints" / "final.safetensors").is_file()
    assert (run / "learning_curve.png").is_file()
    assert len(read_metrics(run / "metrics.csv")) == 2


def test_a_pass_must_be_confirmed_on_fresh_episodes(tmp_path: Path) -> None:
    # A target the 4-episode evaluation reaches by luck before 200 fresh episodes confirm it
    # (settings that learn slowly, so that there are lucky evaluations to catch).
    cfg = _cfg(tmp_path / "run", target_return=60.0, eval_interval=1, confirm_episodes=200,
               total_env_steps=8000, psi="return", baseline="none", lr=0.01, eval_budget=0,
               normalize_observations=False)  # fmt: skip
    result = pgrad.train(cfg)
    rows = read_metrics(tmp_path / "run" / "metrics.csv")
    confirmed = [i for i, r in enumerate(rows) if "eval/confirm_mean" in r]
    assert all(rows[i]["eval/return_mean"] >= 60.0 for i in confirmed)
    failed = [i for i in confirmed if rows[i]["eval/confirm_mean"] < 60.0]
    assert failed and failed[0] < len(rows) - 1  # a failed confirmation; training went on
    assert result.solved and rows[-1]["eval/confirm_mean"] >= 60.0


def test_ppo_applies_its_linear_learning_rate_schedule(tmp_path: Path) -> None:
    pgrad.train(algo="ppo", num_envs=2, num_steps=32, total_env_steps=320, eval_interval=0,
                eval_episodes=2, run_dir=str(tmp_path / "run"), progress=False,
                tensorboard=False)  # fmt: skip  (a string run_dir, as users pass it)
    rows = read_metrics(tmp_path / "run" / "metrics.csv")
    rates = [row["opt/lr"] for row in rows]
    before = [0.0] + [row["env_steps"] for row in rows[:-1]]
    assert rates[0] == 2.5e-4 and len(rates) >= 5
    # lr = 2.5e-4 * (1 - env steps so far / budget) for each update
    assert rates == pytest.approx([2.5e-4 * (1 - steps / 320) for steps in before])


@pytest.mark.parametrize("algo", ["reinforce", "a2c", "ppo"])
def test_return_and_length_means_cover_the_same_episodes(algo: str, tmp_path: Path) -> None:
    # CartPole pays 1 per step, so any window's mean return equals its mean length.
    own = {"reinforce": dict(episodes_per_update=4), "a2c": dict(num_steps=20),
           "ppo": dict(num_steps=32, num_minibatches=2)}[algo]  # fmt: skip
    pgrad.train(algo=algo, num_envs=4, total_env_steps=3000, eval_interval=0, eval_episodes=2,
                run_dir=tmp_path / "run", progress=False, tensorboard=False, **own)  # fmt: skip
    rows = [r for r in read_metrics(tmp_path / "run" / "metrics.csv")
            if "rollout/ep_return_mean" in r]  # fmt: skip
    assert len(rows) >= 3
    for row in rows:
        assert row["rollout/ep_return_mean"] == pytest.approx(row["rollout/ep_length_mean"])


def test_target_none_trains_the_whole_budget(tmp_path: Path) -> None:
    result = pgrad.train(_cfg(tmp_path / "run", target_return="none", total_env_steps=2000,
                              confirm_episodes=5))  # fmt: skip
    assert result.target_return is None and not result.solved and result.env_steps >= 2000
