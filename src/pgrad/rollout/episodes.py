"""Sample m complete episodes from a vector environment into a padded [m, T] batch.

How a batch is collected (this is the answer to "what happens to episodes in flight"):

1. Every collection starts by resetting all N sub-environments, so every episode in the batch is
   sampled from start to end by one policy, the one being updated.
2. Episodes are numbered in the order they *start*. The first m to start form the batch; an
   environment whose episode ends starts episode number k only while k < m. Once m episodes have
   started, sub-environments that finish go idle: they keep stepping (a vector environment steps
   all copies together) but nothing they produce is kept.
3. The collection returns when all m episodes have ended (terminated or truncated); no episode is
   ever cut at the batch boundary. Episodes the idle copies were running are dropped, since their
   later steps would come from the updated policy.

Taking the first m episodes to *start*, not the first m to *finish*, matters: the first to finish
are the shortest, and a batch of them would bias the estimate towards short episodes.

Reset steps of Gymnasium's NEXT_STEP autoreset (see :mod:`pgrad.envs.make`) are never recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from gymnasium.vector import VectorEnv
from torch import Tensor

from pgrad.errors import PgradError
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.stepper import VectorStepper

MAX_STEPS_PER_COLLECTION = 1_000_000
"""Vector steps after which a collection gives up (an environment without a time limit)."""


@dataclass(frozen=True)
class EpisodeBatch:
    """m complete episodes, padded to the longest (see :mod:`pgrad.types`).

    Attributes:
        obs: float [m, T, obs_dim], observation s_t before decision t.
        actions: int64 [m, T] (Discrete) or float [m, T, act_dim] (Box, unclipped samples).
        rewards: float [m, T], r_t.
        terminated, truncated: bool [m, T], how the episode ended after decision t.
        mask: float [m, T], 1.0 on real steps, 0.0 on padding.
        lengths: int64 [m], episode lengths.
        env_steps: environment steps simulated to collect the batch, idle copies included.
    """

    obs: Tensor
    actions: Tensor
    rewards: Tensor
    terminated: Tensor
    truncated: Tensor
    mask: Tensor
    lengths: Tensor
    final_obs: Tensor
    env_steps: int

    @property
    def num_episodes(self) -> int:
        """m."""
        return int(self.lengths.shape[0])

    def episode_returns(self) -> Tensor:
        """Undiscounted return of each episode, float [m]."""
        return self.rewards.sum(dim=1)

    def next_obs(self) -> Tensor:
        """s_{t+1} for every step, float [m, T, obs_dim]: the final observation after the last."""
        out = torch.zeros_like(self.obs)
        out[:, :-1] = self.obs[:, 1:]
        rows = torch.arange(self.num_episodes)
        out[rows, self.lengths - 1] = self.final_obs
        return out


class EpisodeSampler:
    """Collects batches of complete episodes from one vector environment.

    Buffers are preallocated as time-major [capacity, N, ...] arrays, grow by doubling when an
    unusually long collection needs it, and are reused across collections. Per step there is one
    batched policy forward and a fixed number of NumPy operations over all N copies.
    """

    def __init__(self, envs: VectorEnv, seed: int, capacity: int = 1024) -> None:
        self.num_envs = envs.num_envs
        self.stepper = VectorStepper(envs, seed)
        obs_shape = envs.single_observation_space.shape
        self._obs_dim = int(np.prod(obs_shape))
        act_shape = envs.single_action_space.shape or ()
        self._discrete = act_shape == ()
        self._act_shape = act_shape
        self._alloc(capacity)

    def _alloc(self, capacity: int) -> None:
        n = self.num_envs
        self._capacity = capacity
        self._obs = np.zeros((capacity, n, self._obs_dim), np.float32)
        act_dtype = np.int64 if self._discrete else np.float32
        self._actions = np.zeros((capacity, n, *self._act_shape), act_dtype)
        self._rewards = np.zeros((capacity, n), np.float32)
        self._terminated = np.zeros((capacity, n), np.bool_)
        self._truncated = np.zeros((capacity, n), np.bool_)
        self._episode = np.zeros((capacity, n), np.int64)
        self._position = np.zeros((capacity, n), np.int64)

    def _grow(self) -> None:
        old = (self._obs, self._actions, self._rewards, self._terminated, self._truncated,
               self._episode, self._position)  # fmt: skip
        size = self._capacity
        self._alloc(2 * size)
        new = (self._obs, self._actions, self._rewards, self._terminated, self._truncated,
               self._episode, self._position)  # fmt: skip
        for src, dst in zip(old, new, strict=True):
            dst[:size] = src

    def collect(
        self, policy: MLPPolicy, num_episodes: int, generator: torch.Generator
    ) -> EpisodeBatch:
        """Run ``policy`` until ``num_episodes`` complete episodes are recorded.

        Args:
            policy: acts on observations [N, obs_dim].
            num_episodes: m.
            generator: source of the action samples.

        Returns:
            The padded :class:`EpisodeBatch`.
        """
        n, m = self.num_envs, num_episodes
        obs = self.stepper.reset()
        episode = np.full(n, -1, np.int64)  # episode number each copy is running, -1 when idle
        first = min(n, m)
        episode[:first] = np.arange(first)
        started, finished = first, 0
        position = np.zeros(n, np.int64)
        lengths = np.zeros(m, np.int64)
        final_obs = np.zeros((m, self._obs_dim), np.float32)
        env_steps, t = 0, 0
        while finished < m:
            if t == self._capacity:
                if t >= MAX_STEPS_PER_COLLECTION:
                    raise PgradError(
                        f"no episode batch completed in {t} steps; the environment may lack a "
                        "time limit: set --max-episode-steps"
                    )
                self._grow()
            self._obs[t] = obs
            actions = policy.sample(torch.from_numpy(self._obs[t]), generator)
            self._actions[t] = actions.numpy()
            self._episode[t] = episode
            self._position[t] = position
            step = self.stepper.step(policy.env_action(actions))
            self._rewards[t] = step.rewards
            self._terminated[t] = step.terminated
            self._truncated[t] = step.truncated
            env_steps += int(step.real.sum())
            obs = step.obs
            t += 1
            position += 1
            done = step.ended & (episode >= 0)
            if done.any():
                ids = episode[done]
                lengths[ids] = position[done]
                final_obs[ids] = obs[done]
                finished += ids.size
                episode[done] = -1
            # A copy that just took its autoreset step may start the next episode.
            ready = np.flatnonzero(~step.real)
            if ready.size and started < m:
                take = ready[: m - started]
                episode[take] = np.arange(started, started + take.size)
                position[take] = 0
                started += take.size
        self.stepper.pop_finished()  # the batch reports its own episodes, idle ones excluded
        return self._gather(t, lengths, final_obs, env_steps)

    def _gather(
        self, steps: int, lengths: np.ndarray, final_obs: np.ndarray, env_steps: int
    ) -> EpisodeBatch:
        episode = self._episode[:steps]
        keep = episode >= 0
        ids, pos = episode[keep], self._position[:steps][keep]
        m, horizon = lengths.shape[0], int(lengths.max())

        def pad(buffer: np.ndarray) -> Tensor:
            out = np.zeros((m, horizon, *buffer.shape[2:]), buffer.dtype)
            out[ids, pos] = buffer[:steps][keep]
            return torch.from_numpy(out)

        mask = np.zeros((m, horizon), np.float32)
        mask[ids, pos] = 1.0
        return EpisodeBatch(
            obs=pad(self._obs),
            actions=pad(self._actions),
            rewards=pad(self._rewards),
            terminated=pad(self._terminated),
            truncated=pad(self._truncated),
            mask=torch.from_numpy(mask),
            lengths=torch.from_numpy(lengths),
            final_obs=torch.from_numpy(final_obs),
            env_steps=env_steps,
        )
