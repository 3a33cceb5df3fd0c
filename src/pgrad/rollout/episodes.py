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
from pgrad.policies.actor import Actor
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.stepper import VectorStepper

NOISE_CHUNK = 64
"""Steps of action noise drawn per call to the random generator."""

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
    batched NumPy policy forward (:class:`pgrad.policies.actor.Actor`), one environment call and
    a few array writes; the bookkeeping of which copy runs which episode happens only at steps
    where an episode ends.
    """

    def __init__(self, envs: VectorEnv, seed: int, capacity: int = 1024) -> None:
        self.num_envs = envs.num_envs
        self.stepper = VectorStepper(envs, seed)
        self._obs_dim = self.stepper.obs_dim
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

    def _buffers(self) -> tuple[np.ndarray, ...]:
        return self._obs, self._actions, self._rewards, self._terminated, self._truncated

    def _grow(self) -> None:
        old = self._buffers()
        size = self._capacity
        self._alloc(2 * size)
        for src, dst in zip(old, self._buffers(), strict=True):
            dst[:size] = src

    def collect(
        self, policy: MLPPolicy, num_episodes: int, rng: np.random.Generator
    ) -> EpisodeBatch:
        """Run ``policy`` until ``num_episodes`` complete episodes are recorded.

        Args:
            policy: acts (through its NumPy :class:`Actor`) on observations [N, obs_dim].
            num_episodes: m.
            rng: source of the action samples.

        Returns:
            The padded :class:`EpisodeBatch`.
        """
        n, m = self.num_envs, num_episodes
        actor = Actor(policy)
        step = self.stepper.step
        obs = self.stepper.reset()
        episode = np.full(n, -1, np.int64)  # episode number each copy is running, -1 when idle
        first = min(n, m)
        episode[:first] = np.arange(first)
        started, finished = first, 0
        ep_env = np.zeros(m, np.int64)  # the copy that runs episode i ...
        ep_start = np.zeros(m, np.int64)  # ... from this step on
        ep_env[:first] = np.arange(first)
        lengths = np.zeros(m, np.int64)
        final_obs = np.zeros((m, self._obs_dim), np.float32)
        t = 0
        sample, env_action = actor.sample_with, actor.env_action
        obs_buf, act_buf, rew_buf, term_buf, trunc_buf = self._buffers()
        noise = actor.noise(rng, (NOISE_CHUNK, n))
        while finished < m:
            if t == self._capacity:
                if t >= MAX_STEPS_PER_COLLECTION:
                    raise PgradError(
                        f"no episode batch completed in {t} steps; the environment may lack a "
                        "time limit: set --max-episode-steps"
                    )
                self._grow()
                obs_buf, act_buf, rew_buf, term_buf, trunc_buf = self._buffers()
            obs_buf[t] = obs
            if t % NOISE_CHUNK == 0 and t:
                noise = actor.noise(rng, (NOISE_CHUNK, n))
            actions = sample(obs, noise[t % NOISE_CHUNK])
            act_buf[t] = actions
            obs, rew_buf[t], term_buf[t], trunc_buf[t] = step(env_action(actions))
            t += 1
            ended = self.stepper.ended
            if not ended.any():
                continue
            done = np.flatnonzero(ended & (episode >= 0))
            ids = episode[done]
            lengths[ids] = t - ep_start[ids]
            final_obs[ids] = obs[done]
            finished += ids.size
            episode[done] = -1
            if started < m:  # copies that ended take their autoreset step, then start anew
                take = np.flatnonzero(ended)[: m - started]
                new = np.arange(started, started + take.size)
                episode[take] = new
                ep_env[new] = take
                ep_start[new] = t + 1
                started += take.size
        ended_all = self._terminated[: t - 1] | self._truncated[: t - 1]
        env_steps = n * t - int(ended_all.sum())  # every ending but the last step's is followed
        return self._gather(ep_env, ep_start, lengths, final_obs, env_steps)  # by a reset step

    def _gather(
        self,
        ep_env: np.ndarray,
        ep_start: np.ndarray,
        lengths: np.ndarray,
        final_obs: np.ndarray,
        env_steps: int,
    ) -> EpisodeBatch:
        m, horizon = lengths.shape[0], int(lengths.max())
        valid = np.arange(horizon) < lengths[:, None]  # [m, T]
        rows = (ep_start[:, None] + np.arange(horizon))[valid]
        cols = np.broadcast_to(ep_env[:, None], (m, horizon))[valid]

        def pad(buffer: np.ndarray) -> Tensor:
            out = np.zeros((m, horizon, *buffer.shape[2:]), buffer.dtype)
            out[valid] = buffer[rows, cols]
            return torch.from_numpy(out)

        return EpisodeBatch(
            obs=pad(self._obs),
            actions=pad(self._actions),
            rewards=pad(self._rewards),
            terminated=pad(self._terminated),
            truncated=pad(self._truncated),
            mask=torch.from_numpy(valid.astype(np.float32)),
            lengths=torch.from_numpy(lengths),
            final_obs=torch.from_numpy(final_obs),
            env_steps=env_steps,
        )
