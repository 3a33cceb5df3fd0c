"""`pgrad plot`: runs grouped by configuration (seeds together), mean and 95% band, a table."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import t

import pgrad
from pgrad.cli import main
from pgrad.trainer.compare import RunCurve, band


def test_the_band_is_the_mean_and_the_t_interval_across_runs() -> None:
    runs = [RunCurve(Path(f"r{i}"), "k", {}, np.array([0.0, 10.0]), np.array([y, y + 10.0]), None)
            for i, y in enumerate([1.0, 2.0, 6.0])]  # fmt: skip
    x, mean, half = band(runs, points=3)
    assert x.tolist() == [0.0, 5.0, 10.0]
    assert mean.tolist() == pytest.approx([3.0, 8.0, 13.0])
    expected = t.ppf(0.975, 2) * np.std([1.0, 2.0, 6.0], ddof=1) / math.sqrt(3)
    assert half == pytest.approx([expected] * 3)


def test_plot_groups_seeds_of_one_config_and_tells_configs_apart(tmp_path: Path, capsys) -> None:
    for lr in (0.05, 0.02):
        for seed in (1, 2, 3):
            pgrad.train(algo="reinforce", env="CartPole-v1", lr=lr, seed=seed, progress=False,
                        total_env_steps=2000, episodes_per_update=4, num_envs=4,
                        tensorboard=False, eval_interval=0, target_return="none",
                        run_dir=tmp_path / "runs" / f"lr{lr}-s{seed}")  # fmt: skip
    out = tmp_path / "curves.png"
    assert main(["plot", str(tmp_path / "runs"), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| reinforce")]
    assert len(rows) == 2 and all("| 3 |" in r for r in rows)
    assert {r.split("|")[1].strip() for r in rows} == {
        "reinforce CartPole-v1 optim.lr=0.02", "reinforce CartPole-v1 optim.lr=0.05"}


def test_bad_plot_input_is_one_line_and_writes_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "curves.png"
    assert main(["plot", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert main(["plot", str(tmp_path), "--out", str(tmp_path / "curves.txt")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all(e.startswith("error: ") for e in errors)
    assert not out.exists()


def _seeds_cli(base: Path, *seeds: str) -> list[str]:
    return ["train", "reinforce", "--seeds", *seeds, "--run-dir", str(base), "--no-progress",
            "--no-tensorboard", "--total-env-steps", "800", "--episodes-per-update", "4",
            "--num-envs", "4", "--eval-interval", "0", "--target-return", "none"]  # fmt: skip


def test_train_seeds_writes_sibling_runs_that_plot_groups(tmp_path: Path, capsys) -> None:
    base = tmp_path / "sweep"
    assert main(_seeds_cli(base, "1", "2", "3")) == 0
    seeds = [pgrad.load_policy(base / f"seed-{s}").metadata["seed"] for s in (1, 2, 3)]
    assert seeds == [1, 2, 3]
    capsys.readouterr()
    assert main(["plot", str(base), "--out", str(tmp_path / "c.png")]) == 0
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| reinforce")]
    assert len(rows) == 1 and "| 3 |" in rows[0]


def test_bad_seeds_and_a_taken_directory_stop_before_any_run(tmp_path: Path, capsys) -> None:
    base = tmp_path / "sweep"
    (base / "seed-2").mkdir(parents=True)
    (base / "seed-2" / "keep.txt").write_text("mine")
    assert main(_seeds_cli(base, "1", "2")) == 2
    assert main(_seeds_cli(tmp_path / "other", "x")) == 2
    assert main([*_seeds_cli(tmp_path / "other", "1"), "--seed", "3"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 3
    assert sorted(p.name for p in base.iterdir()) == ["seed-2"]
    assert (base / "seed-2" / "keep.txt").read_text() == "mine"
    assert not (tmp_path / "other").exists()
