"""Small Gymnasium environments for tests, registered on import."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

COUNTER_ID = "pgrad-test/Counter-v0"
TUPLE_ACTION_ID = "pgrad-test/TupleAction-v0"
TEXT_OBS_ID = "pgrad-test/TextObs-v0"


class CounterEnv(gym.Env[np.ndarray, np.int64]):
    """Observation [episode id, t]; reward 10 * t + action; episode length drawn in 1..7.

    Every transition names its episode and time step, so a test can see any transition that
    crosses an episode boundary. A third of the episodes end by truncation, the rest terminate.
    """

    instances = 0

    def __init__(self) -> None:
        # float64 observations, as MuJoCo environments return: pgrad must cast them.
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float64)
        self.action_space = gym.spaces.Discrete(3)
        CounterEnv.instances += 1
        self._episode = CounterEnv.instances * 100_000  # ids unique across copies
        self._t = 0
        self._length = 0
        self._truncate = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._episode += 1
        self._t = 0
        self._length = int(self.np_random.integers(1, 8))
        self._truncate = bool(self.np_random.integers(0, 3) == 0)
        return self._obs(), {}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        reward = 10.0 * self._t + float(action)
        self._t += 1
        over = self._t >= self._length
        return self._obs(), reward, over and not self._truncate, over and self._truncate, {}

    def _obs(self) -> np.ndarray:
        return np.array([self._episode, self._t], np.float64)


class TupleActionEnv(gym.Env[np.ndarray, np.ndarray]):
    """An environment whose action space pgrad does not support."""

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Tuple((gym.spaces.Discrete(2), gym.spaces.Discrete(3)))

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        return np.zeros(2, np.float32), 0.0, True, False, {}


def _register() -> None:
    if COUNTER_ID not in gym.registry:
        gym.register(COUNTER_ID, entry_point=CounterEnv)
    if TUPLE_ACTION_ID not in gym.registry:
        gym.register(TUPLE_ACTION_ID, entry_point=TupleActionEnv, max_episode_steps=5)


    if TEXT_OBS_ID not in gym.registry:
        gym.register(TEXT_OBS_ID, entry_point=TextObservationEnv, max_episode_steps=5)


class TextObservationEnv(gym.Env[str, np.int64]):
    """An environment whose observation space (Text) pgrad cannot read."""

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Text(8)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        return "start", {}

    def step(self, action: np.int64):
        return "next", 0.0, False, False, {}


_register()


class FaultyCartPole(gym.Env[np.ndarray, np.int64]):
    """CartPole that goes wrong after ``after`` steps: ``fault`` is nan_obs, nan_reward,
    inf_reward or huge_reward (1e30)."""

    def __init__(self, fault: str = "nan_obs", after: int = 300) -> None:
        from gymnasium.envs.classic_control import CartPoleEnv

        self.inner = CartPoleEnv()
        self.observation_space = self.inner.observation_space
        self.action_space = self.inner.action_space
        self.fault, self.after, self.steps = fault, after, 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        return self.inner.reset(seed=seed)

    def step(self, action: np.int64):
        obs, reward, terminated, truncated, info = self.inner.step(action)
        self.steps += 1
        if self.steps > self.after:
            if self.fault == "nan_obs":
                obs = np.full_like(obs, np.nan)
            else:
                reward = {"nan_reward": np.nan, "inf_reward": np.inf, "huge_reward": 1e30}[
                    self.fault]
        return obs, reward, terminated, truncated, info


FAULTY_ID = "pgrad-test/FaultyCartPole-v0"
if FAULTY_ID not in gym.registry:
    gym.register(FAULTY_ID, entry_point=FaultyCartPole, max_episode_steps=200)
