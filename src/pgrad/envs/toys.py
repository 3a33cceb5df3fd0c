"""Small tasks that exercise one space or ability each, registered as ``pgrad/...-v0``.

They run at hundreds of thousands of steps per second, so each head, encoder and the recurrent
core is learned end to end in seconds (tests, ``benchmarks/learning.py``):

- ``pgrad/Memory-v0``: a cue of +1 or -1 is shown at t = 0 only; after ``length`` steps the
  action must name it (+1 if right, -1 if wrong). Any policy that sees only the current
  observation scores 0 in expectation; remembering the cue scores 1.
- ``pgrad/DictGoal-v0``: Dict observations ``{"position": Discrete(n), "goal": Discrete(n),
  "time_left": Box}``; move left, stay or right to the goal (+1 there, -0.05 per step).
- ``pgrad/Match-v0``: MultiDiscrete actions: name each of ``dims`` targets among ``choices``
  shown one-hot (reward: the fraction named right, for 10 steps).
- ``pgrad/Bits-v0``: MultiBinary actions: copy ``n`` shown bits (reward: the fraction copied).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class MemoryEnv(gym.Env[np.ndarray, np.int64]):
    """Remember a cue shown only at t = 0; answer it at the last step."""

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (Gymnasium's convention)

    def __init__(self, length: int = 8) -> None:
        self.length = length
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self._cue, self._t = 1, 0

    def _obs(self) -> np.ndarray:
        cue = float(self._cue) if self._t == 0 else 0.0
        last = 1.0 if self._t == self.length - 1 else 0.0
        return np.array([cue, self._t / self.length, last], np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._cue, self._t = (1 if self.np_random.random() < 0.5 else -1), 0
        return self._obs(), {}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        done = self._t == self.length - 1
        reward = 0.0
        if done:
            reward = 1.0 if (int(action) == 1) == (self._cue > 0) else -1.0
        self._t += 1
        return self._obs(), reward, done, False, {}


class DictGoalEnv(gym.Env[dict[str, Any], np.int64]):
    """Reach the goal on a line of ``n`` cells; position and goal are Discrete observations."""

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012

    def __init__(self, n: int = 9, horizon: int = 16) -> None:
        self.n, self.horizon = n, horizon
        self.observation_space = gym.spaces.Dict({
            "position": gym.spaces.Discrete(n), "goal": gym.spaces.Discrete(n),
            "time_left": gym.spaces.Box(0.0, 1.0, (1,), np.float32),
        })  # fmt: skip
        self.action_space = gym.spaces.Discrete(3)
        self._pos, self._goal, self._t = 0, 0, 0

    def _obs(self) -> dict[str, Any]:
        left = np.array([1.0 - self._t / self.horizon], np.float32)
        return {"position": self._pos, "goal": self._goal, "time_left": left}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        self._pos, self._goal = (int(x) for x in self.np_random.choice(self.n, 2, replace=False))
        self._t = 0
        return self._obs(), {}

    def step(self, action: np.int64) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        self._pos = int(np.clip(self._pos + int(action) - 1, 0, self.n - 1))
        self._t += 1
        reached = self._pos == self._goal
        reward = 1.0 if reached else -0.05
        return self._obs(), reward, reached, self._t >= self.horizon and not reached, {}


class _EchoTask(gym.Env[np.ndarray, np.ndarray]):
    """Each step shows a target; the reward is the fraction of its entries the action repeats."""

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012

    def __init__(self, horizon: int) -> None:
        self.horizon = horizon
        self._target = np.zeros(0, np.int64)
        self._t = 0

    def _draw(self) -> np.ndarray:
        raise NotImplementedError

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._t = 0
        self._target = self._draw()
        return self._target.copy(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        reward = float(np.mean(np.asarray(action) == self._target))
        self._t += 1
        self._target = self._draw()
        return self._target.copy(), reward, False, self._t >= self.horizon, {}


class MatchEnv(_EchoTask):
    """Name ``dims`` targets among ``choices`` each step (MultiDiscrete actions)."""

    def __init__(self, dims: int = 3, choices: int = 3, horizon: int = 10) -> None:
        super().__init__(horizon)
        self.dims, self.choices = dims, choices
        self.observation_space = gym.spaces.MultiDiscrete([choices] * dims)
        self.action_space = gym.spaces.MultiDiscrete([choices] * dims)

    def _draw(self) -> np.ndarray:
        return self.np_random.integers(0, self.choices, self.dims)


class BitsEnv(_EchoTask):
    """Copy ``n`` shown bits each step (MultiBinary actions and observations)."""

    def __init__(self, n: int = 6, horizon: int = 10) -> None:
        super().__init__(horizon)
        self.n = n
        self.observation_space = gym.spaces.MultiBinary(n)
        self.action_space = gym.spaces.MultiBinary(n)

    def _draw(self) -> np.ndarray:
        return self.np_random.integers(0, 2, self.n).astype(np.int8)


TOYS = {
    "pgrad/Memory-v0": (MemoryEnv, 0.9),
    "pgrad/DictGoal-v0": (DictGoalEnv, 0.7),
    "pgrad/Match-v0": (MatchEnv, 9.5),
    "pgrad/Bits-v0": (BitsEnv, 9.5),
}
"""Each task's class and the return that counts as solved."""


def register_toys() -> None:
    """Register every task of :data:`TOYS` with Gymnasium (once)."""
    for env_id, (cls, threshold) in TOYS.items():
        if env_id not in gym.registry:
            gym.register(env_id, entry_point=f"{__name__}:{cls.__name__}",
                         reward_threshold=threshold)  # fmt: skip
