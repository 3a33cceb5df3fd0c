"""Sample m complete episodes from a vector environment into a padded [m, T] batch.

How a batch is collected (this is the answer to "what happens to episodes in flight"):

1. Every collection starts by resetting all N sub-environments, so every episode in the batch is
   sampled from start to end by one policy, the one being updated.
2. Episodes are numbered in the order they *start*. The first m to start form the batch; an
   environment whose episode ends starts episode number k only while k < m. Once m episodes have
   started, sub-environments that finish go idle: an environment that can step a subset of its
   copies (pgrad's in-process one, :class:`pgrad.envs.serial.SerialVectorEnv`) leaves them
   unstepped, so they cost nothing; one that steps all copies together (a native vector
   environment such as CartPole's, or the async one) keeps stepping them, and nothing they
   produce is kept. Either way the batch is the same: the first m episodes to start.
3. The collection returns when all m episodes have ended (terminated or truncated); no episode is
   ever cut at the batch boundary. Episodes the idle copies were running are dropped, since their
   later steps would come from the updated policy.

Taking the first m episodes to *start*, not the first m to *finish*, matters: the first to finish
are the shortest, and a batch of them would bias the estimate towards short episodes.

Reset steps of Gymnasium's NEXT_STEP autoreset (see :mod:`pgrad.envs.make`) are never recorded.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from gymnasium.vector import VectorEnv

from pgrad.envs.snapshot import rng_state, set_rng_state
from pgrad.errors import PgradError
from pgrad.policies.actor import make_actor
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.batch import Batch, make_batch
from pgrad.rollout.stepper import VectorStepper

NOISE_CHUNK = 64
"""Steps of action noise drawn per call to the random generator."""

MAX_STEPS_PER_COLLECTION = 1_000_000
"""Vector steps after which a collection gives up (an environment without a time limit)."""


class EpisodeSampler:
    """Collects batches of complete episodes from one vector environment.

    Buffers are preallocated as time-major [capacity, N, ...] arrays, grow by doubling when an
    unusually long collection needs it, and are reused across collections. Per step there is one
    batched NumPy policy forward (:class:`pgrad.policies.actor.Actor`), one environment call and
    a few array writes; the bookkeeping of which copy runs which episode happens only at steps
    where an episode ends.
    """

    def __init__(
        self,
        envs: VectorEnv,
        num_episodes: int,
        seed: int,
        log_probs: bool = False,
        capacity: int = 1024,
    ) -> None:
        """Args: the vector environment (owned), m, the seed of the environments' resets and of
        the action noise, whether batches carry log pi_old, and the initial buffer length."""
        self.num_envs = envs.num_envs
        self.num_episodes = num_episodes
        self.stepper = VectorStepper(envs, seed)
        self.rng = np.random.default_rng(seed)
        self._log_probs = log_probs
        self._obs_dim = self.stepper.obs_dim
        self._capacity = 0
        self._act: tuple[tuple[int, ...], Any] = ((), np.int64)
        self._initial = capacity

    def close(self) -> None:
        """Release the environments."""
        self.stepper.envs.close()

    def state_dict(self) -> dict[str, Any]:
        """The action-noise stream and the environments' state (every collection resets every
        copy, so their random streams are what the next batches depend on)."""
        return {"rng": rng_state(self.rng), "stepper": self.stepper.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; the next batches are those the saved sampler would give."""
        set_rng_state(self.rng, state["rng"])
        self.stepper.load_state_dict(state["stepper"])

    def _alloc(self, capacity: int) -> None:
        n = self.num_envs
        self._capacity = capacity
        self._obs = np.zeros((capacity, n, self._obs_dim), self.stepper.obs_dtype)
        shape, dtype = self._act
        self._actions = np.zeros((capacity, n, *shape), dtype)
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

    def collect(self, policy: MLPPolicy) -> Batch:
        """Run ``policy`` until m complete episodes are recorded; return them padded [m, T]."""
        head = policy.head
        if self._capacity == 0 or self._act != (head.action_shape, head.action_dtype):
            self._act = (head.action_shape, head.action_dtype)
            self._alloc(self._initial)
        n, rng = self.num_envs, self.rng
        actor = make_actor(policy)
        actor.begin(n)
        step, stepper, recurrent = self.stepper.step, self.stepper, actor.recurrent
        obs = stepper.reset()
        book = _Episodes(n, self.num_episodes, self._obs_dim, stepper.obs_dtype)
        t = simulated = 0
        sample, env_action = actor.sample_with, actor.env_action
        obs_buf, act_buf, rew_buf, term_buf, trunc_buf = self._buffers()
        noise = actor.noise(rng, (NOISE_CHUNK, n))
        while book.finished < book.m:
            if t == self._capacity:
                self._check_horizon(t)
                self._grow()
                obs_buf, act_buf, rew_buf, term_buf, trunc_buf = self._buffers()
            obs_buf[t] = obs
            if t % NOISE_CHUNK == 0 and t:
                noise = actor.noise(rng, (NOISE_CHUNK, n))
            if recurrent:
                actor.reset(stepper.first)
            actions = sample(obs, noise[t % NOISE_CHUNK])
            act_buf[t] = actions
            simulated += book.running
            obs, rew_buf[t], term_buf[t], trunc_buf[t] = step(env_action(actions), book.active)
            t += 1
            if stepper.ended.any():
                book.end(stepper.ended, obs, t)
        batch = self._gather(policy, book.env, book.start, book.lengths, book.final_obs)
        if stepper.partial:  # only the copies running a batch episode were stepped
            env_steps = simulated - book.resets
        else:  # every copy stepped; every ending but the last step's is followed by a reset step
            ended_all = self._terminated[: t - 1] | self._truncated[: t - 1]
            env_steps = n * t - int(ended_all.sum())
        return dataclasses.replace(batch, env_steps=env_steps)

    @staticmethod
    def _check_horizon(t: int) -> None:
        if t >= MAX_STEPS_PER_COLLECTION:
            raise PgradError(
                f"no episode batch completed in {t} steps; the environment may lack a time "
                "limit: set --max-episode-steps"
            )

    def _gather(
        self,
        policy: MLPPolicy,
        ep_env: np.ndarray,
        ep_start: np.ndarray,
        lengths: np.ndarray,
        final_obs: np.ndarray,
    ) -> Batch:
        m, horizon = lengths.shape[0], int(lengths.max())
        valid = np.arange(horizon) < lengths[:, None]  # [m, T]
        rows = (ep_start[:, None] + np.arange(horizon))[valid]
        cols = np.broadcast_to(ep_env[:, None], (m, horizon))[valid]

        def pad(buffer: np.ndarray) -> np.ndarray:
            out = np.zeros((m, horizon, *buffer.shape[2:]), buffer.dtype)
            out[valid] = buffer[rows, cols]
            return out

        steps = dict(obs=pad(self._obs), actions=pad(self._actions), rewards=pad(self._rewards),
                     terminated=pad(self._terminated), truncated=pad(self._truncated),
                     mask=valid.astype(np.float32),
                     starts=np.arange(horizon)[None, :].repeat(m, 0) == 0)  # fmt: skip
        next_obs = np.zeros_like(steps["obs"])  # s_{t+1}; the final observation after the last
        if policy.has_value:
            next_obs[:, :-1] = steps["obs"][:, 1:]
            next_obs[np.arange(m), lengths - 1] = final_obs
        returns = steps["rewards"].sum(axis=1, dtype=np.float64)
        return make_batch(policy, steps, next_obs, self._log_probs, policy.initial_state(m),
                          episode_returns=returns,
                          episode_lengths=lengths, env_steps=0, complete_episodes=True)  # fmt: skip


class _Episodes:
    """Which copy runs which of the m episodes, from which step, and how each ended.

    Episodes are numbered in the order they start; the first min(N, m) start at step 0, and a
    copy whose episode ends starts the next number (after its autoreset step) while fewer than
    m have started; otherwise it goes idle (``episode`` -1).
    """

    def __init__(self, n: int, m: int, obs_dim: int, obs_dtype: type[np.generic]) -> None:
        self.m = m
        first = min(n, m)
        self.episode = np.full(n, -1, np.int64)  # episode number each copy runs, -1 when idle
        self.episode[:first] = np.arange(first)
        self.started, self.finished = first, 0
        self.env = np.zeros(m, np.int64)  # the copy that runs episode i ...
        self.start = np.zeros(m, np.int64)  # ... from this step on
        self.env[:first] = np.arange(first)
        self.lengths = np.zeros(m, np.int64)
        self.final_obs = np.zeros((m, obs_dim), obs_dtype)
        self.active = self.episode >= 0
        """Which copies run a batch episode (or take the autoreset step before one): the others
        are idle and need not be stepped."""
        self.running = first
        """How many copies are active."""
        self.resets = 0
        """Autoreset steps taken before new episodes."""

    def end(self, ended: np.ndarray, obs: np.ndarray, t: int) -> None:
        """Record the episodes that ended at the step before ``t``; start new ones in their
        copies while fewer than m have started."""
        done = np.flatnonzero(ended & (self.episode >= 0))
        ids = self.episode[done]
        self.lengths[ids] = t - self.start[ids]
        self.final_obs[ids] = obs[done]
        self.finished += ids.size
        self.episode[done] = -1
        if self.started < self.m:  # copies that ended take their autoreset step, then start anew
            take = np.flatnonzero(ended)[: self.m - self.started]
            new = np.arange(self.started, self.started + take.size)
            self.episode[take] = new
            self.env[new] = take
            self.start[new] = t + 1
            self.started += take.size
            self.resets += take.size
        np.greater_equal(self.episode, 0, out=self.active)
        self.running = int(self.active.sum())
