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

from dataclasses import dataclass

import numpy as np
import torch
from gymnasium.vector import VectorEnv
from torch import Tensor

from pgrad.policies.actor import Actor
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.stepper import VectorStepper, finished_episodes, reset_steps


@dataclass(frozen=True)
class Rollout:
    """T steps of N copies, each field [N, T, ...].

    Attributes:
        obs: float [N, T, obs_dim], s_t.
        actions: int64 [N, T] or float [N, T, act_dim] (unclipped samples).
        log_probs: float [N, T], log pi_old(a_t|s_t) at sampling time.
        values: float [N, T], V(s_t) at sampling time.
        next_values: float [N, T], V(s_{t+1}) of the true successor.
        rewards: float [N, T].
        terminated, truncated: bool [N, T].
        mask: float [N, T], 0.0 on autoreset steps.
        episode_returns, episode_lengths: episodes that ended during the rollout.
        env_steps: real environment steps in the rollout.
    """

    obs: Tensor
    actions: Tensor
    log_probs: Tensor
    values: Tensor
    next_values: Tensor
    rewards: Tensor
    terminated: Tensor
    truncated: Tensor
    mask: Tensor
    episode_returns: list[float]
    episode_lengths: list[int]
    env_steps: int


class FixedLengthSampler:
    """Collects :class:`Rollout` s of ``num_steps`` steps into preallocated buffers.

    The loop records observations, actions, rewards and flags only; log pi_old(a|s) and V of
    every observation come after it from one batched PyTorch forward (the parameters do not change
    during a rollout, so this is what a forward at each step would give), and autoreset steps and
    finished episodes are derived from the recorded flags (:mod:`pgrad.rollout.stepper`).
    """

    def __init__(self, envs: VectorEnv, num_steps: int, seed: int) -> None:
        self.stepper = VectorStepper(envs, seed)
        self.num_steps = num_steps
        n, t = envs.num_envs, num_steps
        act_shape = envs.single_action_space.shape or ()
        act_dtype = np.int64 if act_shape == () else np.float32
        self._obs = np.zeros((t + 1, n, self.stepper.obs_dim), np.float32)  # [T] is s_T
        self._actions = np.zeros((t, n, *act_shape), act_dtype)
        self._rewards = np.zeros((t, n), np.float32)
        self._terminated = np.zeros((t, n), np.bool_)
        self._truncated = np.zeros((t, n), np.bool_)
        self._carry = (np.zeros(n, np.float64), np.zeros(n, np.int64))
        self._started = False

    def collect(self, policy: MLPPolicy, rng: np.random.Generator) -> Rollout:
        """Step every copy ``num_steps`` times with ``policy``'s sampled actions."""
        if not self._started:
            self.stepper.reset()
            self._started = True
        actor = Actor(policy)
        step = self.stepper.step
        ended_before = self.stepper.ended.copy()
        obs = self.stepper.obs
        noise = actor.noise(rng, (self.num_steps, self.stepper.num_envs))
        for t in range(self.num_steps):
            self._obs[t] = obs
            actions = actor.sample_with(obs, noise[t])
            self._actions[t] = actions
            obs, self._rewards[t], self._terminated[t], self._truncated[t] = step(
                actor.env_action(actions)
            )
        self._obs[-1] = obs
        ended = self._terminated | self._truncated
        real = ~reset_steps(ended, ended_before)
        returns, lengths, self._carry = finished_episodes(self._rewards, ended, real, self._carry)
        t, n = self.num_steps, self.stepper.num_envs
        with torch.inference_mode():
            flat_obs = torch.from_numpy(self._obs).reshape((t + 1) * n, -1)
            flat_actions = torch.from_numpy(self._actions).reshape(t * n, *self._actions.shape[2:])
            log_probs, _, values = policy.evaluate(flat_obs[: t * n], flat_actions)
            last_values = policy.value(flat_obs[t * n :])
        all_values = torch.cat([values, last_values]).reshape(t + 1, n)

        def batch_first(a: np.ndarray | Tensor) -> Tensor:
            x = torch.as_tensor(a)
            return x.transpose(0, 1).contiguous()

        return Rollout(
            obs=batch_first(self._obs[:-1]),
            actions=batch_first(self._actions),
            log_probs=batch_first(log_probs.reshape(t, n)),
            values=batch_first(all_values[:-1]),
            next_values=batch_first(all_values[1:]),
            rewards=batch_first(self._rewards),
            terminated=batch_first(self._terminated),
            truncated=batch_first(self._truncated),
            mask=batch_first(real.astype(np.float32)),
            episode_returns=returns.tolist(),
            episode_lengths=lengths.tolist(),
            env_steps=int(real.sum()),
        )
