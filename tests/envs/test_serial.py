"""pgrad's in-process vector environment steps exactly as Gymnasium's SyncVectorEnv does in
NEXT_STEP mode: observations, rewards, flags and autoreset steps, seeding included."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from _envs import TUPLE_ACTION_ID
from gymnasium.vector import AutoresetMode, SyncVectorEnv

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
