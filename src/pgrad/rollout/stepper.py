"""One vector environment stepped in NEXT_STEP autoreset mode, with the samplers' bookkeeping.

A :class:`VectorStepper` holds the current observations, which copies are about to take an
autoreset step (see :mod:`pgrad.envs.make`), and the return and length of each copy's running
episode, so samplers can report finished episodes without per-copy Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium.vector import VectorEnv


@dataclass(frozen=True)
class Step:
    """What one vector step returned, for N copies.

    Attributes:
        obs: float32 [N, obs_dim], the observations after the step (the true final observation of
            a copy whose episode just ended; the first observation of the next episode after a
            reset step).
        rewards: float32 [N].
        terminated, truncated: bool [N].
        real: bool [N], False for copies that took an autoreset step (their action was ignored).
        ended: bool [N], ``real & (terminated | truncated)``.
    """

    obs: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    real: np.ndarray
    ended: np.ndarray


class VectorStepper:
    """Steps N copies together; tracks autoreset steps and finished episodes' returns."""

    def __init__(self, envs: VectorEnv, seed: int) -> None:
        self.envs = envs
        self.num_envs = envs.num_envs
        self._seed: int | None = seed
        self.obs = np.zeros((self.num_envs, int(np.prod(envs.single_observation_space.shape))),
                            np.float32)  # fmt: skip
        self.resetting = np.zeros(self.num_envs, np.bool_)
        self.episode_return = np.zeros(self.num_envs, np.float64)
        self.episode_length = np.zeros(self.num_envs, np.int64)
        self.finished_returns: list[float] = []
        self.finished_lengths: list[int] = []

    def reset(self) -> np.ndarray:
        """Reset every copy (seeded the first time only); return the observations [N, obs_dim]."""
        obs, _ = self.envs.reset(seed=self._seed)
        self._seed = None  # later resets continue the environments' own random streams
        self.obs = obs.reshape(self.num_envs, -1).astype(np.float32, copy=False)
        self.resetting[:] = False
        self.episode_return[:] = 0.0
        self.episode_length[:] = 0
        return self.obs

    def step(self, actions: np.ndarray) -> Step:
        """Send ``actions`` [N, ...] to the environment; record finished episodes."""
        obs, rewards, terminated, truncated, _ = self.envs.step(actions)
        real = ~self.resetting
        ended = real & (terminated | truncated)
        self.episode_return += np.where(real, rewards, 0.0)
        self.episode_length += real
        if ended.any():
            self.finished_returns.extend(self.episode_return[ended].tolist())
            self.finished_lengths.extend(self.episode_length[ended].tolist())
            self.episode_return[ended] = 0.0
            self.episode_length[ended] = 0
        self.resetting = terminated | truncated
        self.obs = obs.reshape(self.num_envs, -1).astype(np.float32, copy=False)
        return Step(self.obs, rewards.astype(np.float32, copy=False), terminated, truncated, real,
                    ended)  # fmt: skip

    def pop_finished(self) -> tuple[list[float], list[int]]:
        """Returns and lengths of the episodes finished since the last call."""
        out = (self.finished_returns, self.finished_lengths)
        self.finished_returns, self.finished_lengths = [], []
        return out
