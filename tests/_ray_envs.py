"""Environments that fail inside Ray workers, registered on import (``gym_packages``)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium.envs.classic_control import CartPoleEnv

RAISING_ID = "pgrad-test/RaisingCartPole-v0"


class RaisingCartPole(CartPoleEnv):
    """CartPole whose 30th step raises, every time."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._steps = 0

    def step(self, action: Any) -> Any:
        self._steps += 1
        if self._steps == 30:
            raise RuntimeError("the simulator lost its state")
        return super().step(action)


if RAISING_ID not in gym.registry:
    gym.register(RAISING_ID, entry_point=RaisingCartPole, max_episode_steps=500)
