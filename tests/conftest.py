"""Shared fixtures; importing _envs registers the test environments."""

from __future__ import annotations

from typing import Any

import pytest

import _envs  # noqa: F401  (registers the test environments)


@pytest.fixture
def fast_train_args(tmp_path: Any) -> list[str]:
    """CLI arguments for a short CartPole run into a fresh directory."""
    return [
        "--total-env-steps", "2000", "--episodes-per-update", "4", "--num-envs", "4",
        "--eval-episodes", "5", "--no-progress", "--run-dir", str(tmp_path / "run"),
    ]  # fmt: skip
