"""Checkpoints: safetensors + JSON round trip, and clear errors on files that are not ours."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from pgrad.envs.make import EnvInfo
from pgrad.errors import PgradError
from pgrad.policies.mlp import PolicySpec, build_policy
from pgrad.trainer.checkpoint import load_policy, save_policy

INFO = EnvInfo("Pendulum-v1", obs_dim=3, action_space=gym.spaces.Box(-2.0, 2.0, (1,), np.float32))


def test_round_trip(tmp_path: Path) -> None:
    policy = build_policy(PolicySpec(INFO, (4,), "tanh", init_log_std=-0.5), seed=0)
    weights = save_policy(tmp_path, "final", policy, env="Pendulum-v1", update=3)
    for path in (weights, weights.with_suffix(".json"), weights.with_suffix("")):
        loaded, meta = load_policy(path)
        assert meta["update"] == 3 and loaded.spec == policy.spec
        for a, b in zip(policy.state_dict().values(), loaded.state_dict().values(), strict=True):
            assert torch.equal(a, b)
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda w: w.write_bytes(b"not safetensors"), "not a readable safetensors file"),
        (lambda w: w.with_suffix(".json").write_text("{"), "is not valid JSON"),
        (lambda w: w.with_suffix(".json").write_text('{"format": "x"}'), "not pgrad checkpoint"),
        (lambda w: w.with_suffix(".json").unlink(), "has no metadata file"),
    ],
)
def test_damaged_checkpoints_are_refused(tmp_path: Path, damage, words: str) -> None:
    weights = save_policy(tmp_path, "c", build_policy(PolicySpec(INFO, (4,), "tanh"), 0))
    damage(weights)
    with pytest.raises(PgradError, match=words):
        load_policy(weights)


def test_metadata_that_does_not_match_the_weights(tmp_path: Path) -> None:
    weights = save_policy(tmp_path, "c", build_policy(PolicySpec(INFO, (4,), "tanh"), 0))
    header = json.loads(weights.with_suffix(".json").read_text())
    header["policy"]["hidden_sizes"] = [5]
    weights.with_suffix(".json").write_text(json.dumps(header))
    with pytest.raises(PgradError, match="does not match its metadata"):
        load_policy(weights)
