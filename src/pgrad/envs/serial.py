"""N copies of an environment stepped in turn in this process, in NEXT_STEP autoreset mode.

What Gymnasium's ``SyncVectorEnv`` does for pgrad, minus what pgrad never reads: the merged
``info`` dicts (pgrad's samplers take nothing from them), the deep copy of every observation
batch and the copies of the reward and flag arrays. Measured on HalfCheetah-v5 with one copy on a
2-core laptop: 63 us per vector step through ``SyncVectorEnv`` against 42 us for the environment's
own step, of which this class keeps about 3 us. The semantics are ``SyncVectorEnv``'s in NEXT_STEP
mode, seeding included (``reset(seed=s)`` seeds copy i with s + i); ``tests/envs/test_serial.py``
checks step-for-step equality with it. The arrays returned are this object's buffers,
overwritten by the next step: copy what must outlive it.

:meth:`SerialVectorEnv.step_active` steps only some copies: a sampler whose copies wait idle
for the others (:mod:`pgrad.rollout.episodes`) does not pay for simulating them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array, iterate

_ARRAY_ACTIONS = (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete,
                  gym.spaces.MultiBinary)  # fmt: skip
"""Action spaces whose batched actions are arrays with one row per copy."""


@runtime_checkable
class StepsSome(Protocol):
    """A vector environment that can step a subset of its copies (:meth:`step_active`)."""

    def step_active(self, actions: Any, active: np.ndarray
                    ) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:  # fmt: skip
        """Step the copies where ``active``; the others stay as they are."""
        ...


class SerialVectorEnv(VectorEnv):
    """Copies built by ``env_fns``, stepped one after the other."""

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env[Any, Any]]]) -> None:
        self.envs = [fn() for fn in env_fns]
        self.num_envs = len(self.envs)
        first = self.envs[0]
        self.metadata = {**first.metadata, "autoreset_mode": AutoresetMode.NEXT_STEP}
        self.render_mode = first.render_mode
        self.spec = first.spec
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._box_obs = isinstance(self.single_observation_space, gym.spaces.Box)
        self._array_actions = isinstance(self.single_action_space, _ARRAY_ACTIONS)
        self._observations = create_empty_array(self.single_observation_space, self.num_envs)
        self._env_obs: list[Any] = [None] * self.num_envs
        self._rewards = np.zeros(self.num_envs, np.float64)
        self._terminations = np.zeros(self.num_envs, np.bool_)
        self._truncations = np.zeros(self.num_envs, np.bool_)
        self._autoreset_envs = np.zeros(self.num_envs, np.bool_)

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:  # fmt: skip
        """Reset every copy (copy i with ``seed + i`` when ``seed`` is an int)."""
        seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else (
            seed or [None] * self.num_envs)  # fmt: skip
        if len(seeds) != self.num_envs:
            raise ValueError(f"{len(seeds)} seeds for {self.num_envs} copies")
        for i, (env, one) in enumerate(zip(self.envs, seeds, strict=True)):
            self._env_obs[i], _ = env.reset(seed=one, options=options)
        self._rewards[:] = 0.0
        self._terminations[:] = self._truncations[:] = self._autoreset_envs[:] = False
        return self._batched(), {}

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """One step of every copy; a copy whose episode ended at the last step resets instead
        (reward 0, both flags False: the autoreset step)."""
        rows = actions if self._array_actions else list(iterate(self.action_space, actions))
        for i, env in enumerate(self.envs):
            if self._autoreset_envs[i]:
                self._env_obs[i], _ = env.reset()
                self._rewards[i] = 0.0
                self._terminations[i] = self._truncations[i] = False
            else:
                (self._env_obs[i], self._rewards[i], self._terminations[i], self._truncations[i],
                 _) = env.step(rows[i])  # fmt: skip
        np.logical_or(self._terminations, self._truncations, out=self._autoreset_envs)
        return self._batched(), self._rewards, self._terminations, self._truncations, {}

    def step_active(self, actions: Any, active: np.ndarray
                    ) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:  # fmt: skip
        """:meth:`step` for the copies where ``active`` (bool [N]) is True only; the others are
        not stepped: their observation stays, their reward is 0 and their flags False, and an
        autoreset they owe waits for their next step or reset."""
        rows = actions if self._array_actions else list(iterate(self.action_space, actions))
        for i in np.flatnonzero(active):
            env = self.envs[i]
            if self._autoreset_envs[i]:
                self._env_obs[i], _ = env.reset()
                self._rewards[i] = 0.0
                self._terminations[i] = self._truncations[i] = False
                self._autoreset_envs[i] = False
            else:
                (self._env_obs[i], self._rewards[i], self._terminations[i], self._truncations[i],
                 _) = env.step(rows[i])  # fmt: skip
                self._autoreset_envs[i] = self._terminations[i] or self._truncations[i]
        idle = ~active
        self._rewards[idle] = 0.0
        flags = (self._terminations.copy(), self._truncations.copy())
        flags[0][idle] = flags[1][idle] = False
        return self._batched(), self._rewards, flags[0], flags[1], {}

    def _batched(self) -> Any:
        if self._box_obs:
            for i, obs in enumerate(self._env_obs):
                self._observations[i] = obs
            return self._observations
        self._observations = concatenate(self.single_observation_space, self._env_obs,
                                         self._observations)  # fmt: skip
        return self._observations

    def render(self) -> tuple[Any, ...] | None:
        """Each copy's frame."""
        return tuple(env.render() for env in self.envs)

    def close_extras(self, **kwargs: Any) -> None:
        """Close every copy."""
        for env in self.envs:
            env.close()
