"""Same config and seed, same run: identical metrics and identical weights."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from safetensors.torch import load_file

import pgrad
from pgrad.trainer.logging import TIMING_COLUMNS


def _run(run_dir: Path, env: str, seed: int) -> tuple[list[dict[str, str]], dict]:
    cfg = pgrad.make_config(
        env=env, seed=seed, total_env_steps=3000, episodes_per_update=4, num_envs=4,
        eval_episodes=4, eval_interval=2, run_dir=run_dir, progress=False, tensorboard=False,
    )  # fmt: skip
    pgrad.train(cfg)
    with (run_dir / "metrics.csv").open() as f:
        rows = [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in csv.DictReader(f)]
    return rows, load_file(str(run_dir / "checkpoints" / "final.safetensors"))


@pytest.mark.parametrize("env", ["CartPole-v1", "Pendulum-v1"])
def test_same_seed_same_metrics_and_weights(tmp_path: Path, env: str) -> None:
    rows_a, weights_a = _run(tmp_path / "a", env, seed=7)
    rows_b, weights_b = _run(tmp_path / "b", env, seed=7)
    assert len(rows_a) >= 2
    assert rows_a == rows_b
    assert weights_a.keys() == weights_b.keys()
    for key in weights_a:
        assert (weights_a[key] == weights_b[key]).all()


def test_another_seed_gives_another_run(tmp_path: Path) -> None:
    rows_a, _ = _run(tmp_path / "a", "CartPole-v1", seed=1)
    rows_b, _ = _run(tmp_path / "b", "CartPole-v1", seed=2)
    assert rows_a != rows_b
