"""Real transitions and idle steps are counted apart (a complete-episode batch idles the copies
that finish once m episodes have started; their steps are simulated but not trained on)."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode

import pgrad
from _envs import COUNTER_ID
from pgrad.envs.make import make_vector_env
from pgrad.policies.mlp import PolicySpec, build_policy
from pgrad.rollout.episodes import EpisodeSampler
from pgrad.rollout.fixed import FixedLengthSampler
from pgrad.trainer.logging import read_metrics


def test_batches_count_their_real_transitions() -> None:
    envs, info = make_vector_env(COUNTER_ID, 4)  # episodes of 1 to 7 steps
    policy = build_policy(PolicySpec(info, (8,), "tanh"), seed=0)
    episodes = EpisodeSampler(envs, num_episodes=6, seed=0)
    batch = episodes.collect(policy)
    assert batch.transitions == int(batch.episode_lengths.sum())
    assert batch.env_steps == batch.transitions  # idle copies were not stepped at all
    episodes.close()
    envs, _ = make_vector_env(COUNTER_ID, 4)
    fixed = FixedLengthSampler(envs, num_steps=16, seed=0)
    batch = fixed.collect(policy)
    assert batch.transitions == batch.env_steps  # autoreset steps are neither
    fixed.close()


def test_idle_copies_cost_nothing_and_change_nothing() -> None:
    """Leaving idle copies unstepped gives the batch a vector environment that steps every copy
    gives (the first m episodes to start), without the idle steps. (Only the first batch is the
    same: the idle copies' episodes draw from their environment's random stream, which the next
    batch's resets continue.)"""
    envs, info = make_vector_env(COUNTER_ID, 4)
    policy = build_policy(PolicySpec(info, (8,), "tanh"), seed=0)
    every = gym.make_vec(COUNTER_ID, 4, vectorization_mode="sync",
                         vector_kwargs={"autoreset_mode": AutoresetMode.NEXT_STEP})  # fmt: skip
    lean, full = EpisodeSampler(envs, 6, seed=3), EpisodeSampler(every, 6, seed=3)
    assert lean.stepper.partial and not full.stepper.partial
    a, b = lean.collect(policy), full.collect(policy)
    torch.testing.assert_close(a.obs[..., 1], b.obs[..., 1], rtol=0, atol=0)  # [0]: copy ids
    for name in ("actions", "rewards", "mask", "terminated", "truncated"):
        torch.testing.assert_close(getattr(a, name), getattr(b, name), rtol=0, atol=0)
    np.testing.assert_array_equal(a.episode_returns, b.episode_returns)
    assert a.env_steps == a.transitions == b.transitions < b.env_steps
    later = lean.collect(policy)
    assert later.env_steps == later.transitions
    lean.close()
    full.close()


def test_summary_and_metrics_report_transitions_and_idle_steps(tmp_path: Path) -> None:
    # CartPole's native vector environment steps every copy together: idle copies step too.
    result = pgrad.train(env="CartPole-v1", total_env_steps=2000, episodes_per_update=6,
                         num_envs=4, eval_episodes=2, progress=False, tensorboard=False,
                         target_return="none", run_dir=tmp_path / "run")  # fmt: skip
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["transitions"] + summary["idle_steps"] == summary["env_steps"]
    assert 0 < summary["transitions"] < summary["env_steps"] == result.env_steps
    rows = read_metrics(tmp_path / "run" / "metrics.csv")
    assert rows[-1]["rollout/transitions"] == summary["transitions"]
    assert all(0.0 <= row["rollout/idle_share"] < 1.0 for row in rows)
