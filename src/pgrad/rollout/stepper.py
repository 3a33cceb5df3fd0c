"""One vector environment stepped in NEXT_STEP autoreset mode, and the episodes found in its steps.

The samplers' inner loops do as little per step as possible: a :class:`VectorStepper` step is one
call into the environment plus a flatten; everything that can be derived afterwards from the
recorded ``[T, N]`` arrays (which steps were autoreset steps, which episodes finished and their
returns) is derived afterwards, in a few whole-array operations (:func:`reset_steps`,
:func:`finished_episodes`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import VectorEnv

from pgrad.envs.observations import batch_flattener, observation_layout
from pgrad.envs.serial import StepsSome
from pgrad.envs.snapshot import capture, restore


class VectorStepper:
    """Steps N copies together, with observations in their stored form [N, obs_dim]
    (:mod:`pgrad.envs.observations`: float32, or uint8 for images)."""

    def __init__(self, envs: VectorEnv, seed: int) -> None:
        self.envs = envs
        self.num_envs = envs.num_envs
        space = envs.single_observation_space
        layout = observation_layout(space)
        self.obs_dim, self.obs_dtype = layout.dim, layout.dtype
        self._flatten = batch_flattener(space)
        self._seed: int | None = seed
        self.partial = isinstance(envs, StepsSome)
        """Whether idle copies can be left unstepped (:class:`pgrad.envs.serial.StepsSome`)."""
        self.obs = np.zeros((self.num_envs, self.obs_dim), self.obs_dtype)
        self.ended = np.zeros(self.num_envs, np.bool_)
        """Which copies ended an episode at the last step (their next step is an autoreset)."""
        self.first = np.ones(self.num_envs, np.bool_)
        """Which copies' current observation is the first of an episode (a recurrent policy
        zeroes its state there): all after a reset, and each copy after its autoreset step."""

    def reset(self) -> np.ndarray:
        """Reset every copy (seeded the first time only); return the observations [N, obs_dim]."""
        obs, _ = self.envs.reset(seed=self._seed)
        self._seed = None  # later resets continue the environments' own random streams
        self.obs = self._flatten(obs, self.num_envs)
        self.ended[:] = False
        self.first[:] = True
        return self.obs

    def state_dict(self) -> dict[str, Any]:
        """Everything the next steps depend on: the environments' state, the last observations
        and endings, and whether the first (seeded) reset is still to come."""
        return {"seed": self._seed, "obs": self.obs.tolist(), "ended": self.ended.tolist(),
                "first": self.first.tolist(), "envs": capture(self.envs)}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> bool:
        """Restore :meth:`state_dict`; return whether the environments were captured exactly."""
        self._seed = state["seed"]
        self.obs[...] = np.asarray(state["obs"], self.obs_dtype).reshape(self.obs.shape)
        self.ended[...] = np.asarray(state["ended"], np.bool_)
        self.first[...] = np.asarray(state.get("first", self.first), np.bool_)
        restore(self.envs, state["envs"])
        return bool(state["envs"]["exact"])

    def step(
        self, actions: np.ndarray, active: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Send ``actions`` [N, ...]; return (obs [N, obs_dim], rewards, terminated, truncated).

        The observation of a copy whose episode ended at this step is its true final observation;
        on the autoreset step after it, reward and both flags are zero (see :mod:`pgrad.envs.make`).
        With ``active`` (bool [N]) and an environment that can (:attr:`partial`), only those
        copies are simulated; the others keep their observation, with reward 0 and flags False.
        """
        if active is not None and self.partial:
            obs, rewards, terminated, truncated, _ = self.envs.step_active(actions, active)  # type: ignore[attr-defined]
        else:
            obs, rewards, terminated, truncated, _ = self.envs.step(actions)
        self.obs = self._flatten(obs, self.num_envs)
        self.first = self.ended  # the copies that took their autoreset step now start anew
        self.ended = terminated | truncated
        return self.obs, rewards, terminated, truncated


def reset_steps(ended: np.ndarray, ended_before: np.ndarray) -> np.ndarray:
    """Which recorded steps were autoreset steps, bool [T, N].

    Args:
        ended: bool [T, N], ``terminated | truncated`` of each step.
        ended_before: bool [N], whether each copy ended an episode at the step before ``ended[0]``.
    """
    out = np.empty_like(ended)
    out[0] = ended_before
    out[1:] = ended[:-1]
    return out


def finished_episodes(
    rewards: np.ndarray, ended: np.ndarray, real: np.ndarray, carry: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Returns and lengths of the episodes that ended in ``T`` recorded steps, in order of ending.

    Args:
        rewards: float [T, N] (zero on autoreset steps).
        ended: bool [T, N], ``terminated | truncated``.
        real: bool [T, N], False on autoreset steps.
        carry: (return so far, length so far) of each copy's running episode, float64 [N] and
            int64 [N], from the previous call (zeros at the start).

    Returns:
        (returns float64 [E], lengths int64 [E], carry for the next call), E episodes ordered by
        the step they ended at (ties by copy).
    """
    total = np.cumsum(rewards, axis=0, dtype=np.float64) + carry[0]
    count = np.cumsum(real, axis=0, dtype=np.int64) + carry[1]
    env, t = np.nonzero(ended.T)  # grouped by copy, in time order within a copy
    end_total, end_count = total[t, env], count[t, env]
    same = np.zeros(env.shape[0], np.bool_)
    same[1:] = env[1:] == env[:-1]  # the previous ending in the list is this copy's previous one
    prev_total = np.where(same, np.roll(end_total, 1), 0.0)
    prev_count = np.where(same, np.roll(end_count, 1), 0)
    order = np.lexsort((env, t))
    returns = (end_total - prev_total)[order]
    lengths = (end_count - prev_count)[order]
    # What is left of each copy's running episode after its last ending.
    last = np.ones(env.shape[0], np.bool_)
    last[:-1] = env[:-1] != env[1:]  # each copy's last ending
    last_total, last_count = np.zeros_like(carry[0]), np.zeros_like(carry[1])
    last_total[env[last]] = end_total[last]
    last_count[env[last]] = end_count[last]
    new_carry = (total[-1] - last_total, count[-1] - last_count)
    return returns, lengths, new_carry
