"""pgrad's in-process vector environment steps exactly as Gymnasium's SyncVectorEnv does in
NEXT_STEP mode: observations, rewards, flags and autoreset steps, seeding included."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from _envs import TUPLE_ACTION_ID
from pgrad.config import EnvConfig
from pgrad.envs.finite import register_envs
from pgrad.envs.make import make_vector_env
from pgrad.envs.serial import SerialVectorEnv

register_envs()


def _flat(x: object) -> list[np.ndarray]:
    if isinstance(x, dict):
        return [a for k in sorted(x) for a in _flat(x[k])]
    if isinstance(x, tuple):
        return [a for v in x for a in _flat(v)]
    return [np.asarray(x)]


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1", "pgrad/DictGoal-v0",
                                    TUPLE_ACTION_ID])  # fmt: skip
def test_steps_like_sync_vector_env(env_id: str) -> None:
    kwargs = {"max_episode_steps": 30} if env_id == "Pendulum-v1" else {}
    fns = [lambda: gym.make(env_id, **kwargs)] * 3
    ours = SerialVectorEnv(fns)
    theirs = SyncVectorEnv(fns, autoreset_mode=AutoresetMode.NEXT_STEP)
    assert ours.observation_space == theirs.observation_space
    assert ours.action_space == theirs.action_space
    ours.action_space.seed(5)
    a, _ = ours.reset(seed=11)
    b, _ = theirs.reset(seed=11)
    ends = 0
    for _ in range(120):
        actions = ours.action_space.sample()
        a, ra, ta, ua, _ = ours.step(actions)
        b, rb, tb, ub, _ = theirs.step(actions)
        for x, y in zip(_flat(a), _flat(b), strict=True):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(ra, rb)
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(ua, ub)
        ends += int((ta | ua).sum())
    assert ends > 0  # autoreset steps were exercised
    ours.close()
    theirs.close()


def test_sync_mode_builds_it_and_keeps_the_metadata() -> None:
    envs, info = make_vector_env(EnvConfig(id="Pendulum-v1", num_envs=2,
                                           vectorization_mode="sync"))  # fmt: skip
    assert isinstance(envs, SerialVectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert envs.spec is not None and envs.spec.id == "Pendulum-v1"
    assert info.obs_dim == 3
    envs.close()


def test_step_active_leaves_idle_copies_where_they_were() -> None:
    fns = [lambda: gym.make("CartPole-v1")] * 2
    always, paused = SerialVectorEnv(fns), SerialVectorEnv(fns)
    always.reset(seed=3)
    paused.reset(seed=3)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 2, (60, 2))
    seen_always, seen_paused = [], []
    k = 0  # the paused copy's own step count
    for t in range(60):
        full, *_ = always.step(actions[t])
        full = full.copy()
        seen_always.append(full[1])
        active = np.array([True, not 10 <= t < 20])
        obs, rewards, terminated, truncated, _ = paused.step_active(
            np.array([actions[t][0], actions[k][1]]), active)  # fmt: skip
        np.testing.assert_array_equal(obs[0], full[0])  # the active copy steps as ever
        if active[1]:
            seen_paused.append(obs[1].copy())
            k += 1
        else:
            assert rewards[1] == 0.0 and not terminated[1] and not truncated[1]
    # The paused copy's trajectory is the other's, ten steps late; autoresets included.
    np.testing.assert_array_equal(np.array(seen_paused), np.array(seen_always[: len(seen_paused)]))
