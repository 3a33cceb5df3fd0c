"""Fixed-length rollouts: T steps of N copies, continuing across updates (A2C and PPO).

Unlike :mod:`pgrad.rollout.episodes`, episodes run on across rollouts: the environments are reset
once, and a rollout that ends mid-episode bootstraps from V of the observation after its last
step. Layout follows :mod:`pgrad.types`: batch first (the N copies), time last.

Step alignment (NEXT_STEP autoreset, see :mod:`pgrad.envs.make`): ``next_values[n, t]`` is V of
the observation returned by step t, which is the true final observation when the episode ended at
t, so truncated episodes bootstrap correctly and terminated ones are masked by ``terminated``.
Autoreset steps are kept in place with ``mask`` 0, so they never enter a loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium.vector import VectorEnv

from pgrad.envs.snapshot import rng_state, set_rng_state
from pgrad.policies.actor import make_actor
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.batch import Batch, make_batch
from pgrad.rollout.stepper import VectorStepper, finished_episodes, reset_steps


class FixedLengthSampler:
    """Collects :class:`pgrad.rollout.batch.Batch` es of ``num_steps`` steps into preallocated
    buffers.

    The loop records observations, actions, rewards and flags only; log pi_old(a|s) and V of
    every observation come after it from one batched PyTorch forward (the parameters do not change
    during a rollout, so this is what a forward at each step would give), and autoreset steps and
    finished episodes are derived from the recorded flags (:mod:`pgrad.rollout.stepper`).
    """

    def __init__(self, envs: VectorEnv, num_steps: int, seed: int, log_probs: bool = True) -> None:
        """Args: the vector environment (owned), T, the seed of the environments' first reset
        and of the action noise, and whether batches carry log pi_old."""
        self.stepper = VectorStepper(envs, seed)
        self.num_envs = envs.num_envs
        self.num_steps = num_steps
        self.rng = np.random.default_rng(seed)
        self._log_probs = log_probs
        n, t = envs.num_envs, num_steps
        self._obs = np.zeros((t + 1, n, self.stepper.obs_dim), self.stepper.obs_dtype)  # [T]: s_T
        self._starts = np.zeros((t + 1, n), np.bool_)
        self._actions: np.ndarray | None = None
        self._rewards = np.zeros((t, n), np.float32)
        self._terminated = np.zeros((t, n), np.bool_)
        self._truncated = np.zeros((t, n), np.bool_)
        self._carry = (np.zeros(n, np.float64), np.zeros(n, np.int64))
        self._started = False
        self._state: torch.Tensor | None = None  # a recurrent policy's state between rollouts

    def close(self) -> None:
        """Release the environments."""
        self.stepper.envs.close()

    def state_dict(self) -> dict[str, Any]:
        """The action-noise stream, the environments' state, the episodes in flight and a
        recurrent policy's state."""
        state = None if self._state is None else self._state.tolist()
        return {"rng": rng_state(self.rng), "stepper": self.stepper.state_dict(),
                "started": self._started, "policy_state": state,
                "carry": [self._carry[0].tolist(), self._carry[1].tolist()]}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`. Environments that could not be captured exactly restart
        their episodes at the next collection (their random streams continue)."""
        set_rng_state(self.rng, state["rng"])
        exact = self.stepper.load_state_dict(state["stepper"])
        self._started = bool(state["started"]) and exact
        carry = state["carry"] if self._started else [[0.0] * self.num_envs, [0] * self.num_envs]
        self._carry = (np.asarray(carry[0], np.float64), np.asarray(carry[1], np.int64))
        saved = state.get("policy_state") if self._started else None
        self._state = None if saved is None else torch.tensor(saved, dtype=torch.float32)

    def collect(self, policy: MLPPolicy) -> Batch:
        """Step every copy ``num_steps`` times with ``policy``'s sampled actions."""
        head = policy.head
        if self._actions is None:
            shape = (self.num_steps, self.num_envs, *head.action_shape)
            self._actions = np.zeros(shape, head.action_dtype)
        if not self._started:
            self.stepper.reset()
            self._started = True
        actor = make_actor(policy)
        initial = actor.begin(self.num_envs, self._state).clone()
        step, stepper, recurrent = self.stepper.step, self.stepper, actor.recurrent
        ended_before = stepper.ended.copy()
        obs = stepper.obs
        noise = actor.noise(self.rng, (self.num_steps, self.num_envs))
        for t in range(self.num_steps):
            self._obs[t] = obs
            self._starts[t] = stepper.first
            if recurrent:
                actor.reset(stepper.first)
            actions = actor.sample_with(obs, noise[t])
            self._actions[t] = actions
            obs, self._rewards[t], self._terminated[t], self._truncated[t] = step(
                actor.env_action(actions)
            )
        self._obs[-1] = obs
        self._state = actor.state if recurrent else None
        return self._batch(policy, ended_before, initial)

    def _batch(self, policy: MLPPolicy, ended_before: np.ndarray, initial: torch.Tensor) -> Batch:
        assert self._actions is not None
        ended = self._terminated | self._truncated
        real = ~reset_steps(ended, ended_before)
        returns, lengths, self._carry = finished_episodes(self._rewards, ended, real, self._carry)

        def batch_first(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(a.swapaxes(0, 1))

        steps = dict(obs=batch_first(self._obs[:-1]), actions=batch_first(self._actions),
                     rewards=batch_first(self._rewards), terminated=batch_first(self._terminated),
                     truncated=batch_first(self._truncated),
                     mask=batch_first(real.astype(np.float32)),
                     starts=batch_first(self._starts[:-1]))  # fmt: skip
        next_obs = batch_first(self._obs[1:])  # s_{t+1}: the final observation where one ended
        return make_batch(policy, steps, next_obs, self._log_probs, initial,
                          episode_returns=returns,
                          episode_lengths=lengths, env_steps=int(real.sum()),
                          complete_episodes=False)  # fmt: skip
