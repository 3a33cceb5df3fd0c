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

from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.stepper import VectorStepper


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
    """Collects :class:`Rollout` s of ``num_steps`` steps into preallocated buffers."""

    def __init__(self, envs: VectorEnv, num_steps: int, seed: int) -> None:
        self.stepper = VectorStepper(envs, seed)
        self.num_steps = num_steps
        n, t = envs.num_envs, num_steps
        obs_dim = self.stepper.obs.shape[1]
        act_shape = envs.single_action_space.shape or ()
        act_dtype = np.int64 if act_shape == () else np.float32
        self._obs = np.zeros((t, n, obs_dim), np.float32)
        self._actions = np.zeros((t, n, *act_shape), act_dtype)
        self._log_probs = np.zeros((t, n), np.float32)
        self._values = np.zeros((t + 1, n), np.float32)
        self._rewards = np.zeros((t, n), np.float32)
        self._terminated = np.zeros((t, n), np.bool_)
        self._truncated = np.zeros((t, n), np.bool_)
        self._real = np.zeros((t, n), np.bool_)
        self._started = False

    def collect(self, policy: MLPPolicy, generator: torch.Generator) -> Rollout:
        """Step every copy ``num_steps`` times with ``policy``."""
        if not self._started:
            self.stepper.reset()
            self._started = True
        obs = self.stepper.obs
        for t in range(self.num_steps):
            self._obs[t] = obs
            actions, log_probs, values = policy.act(torch.from_numpy(self._obs[t]), generator)
            self._actions[t] = actions.numpy()
            self._log_probs[t] = log_probs.numpy()
            self._values[t] = values.numpy()
            step = self.stepper.step(policy.env_action(actions))
            self._rewards[t] = step.rewards
            self._terminated[t] = step.terminated
            self._truncated[t] = step.truncated
            self._real[t] = step.real
            obs = step.obs
        with torch.inference_mode():
            self._values[-1] = policy.value(torch.from_numpy(obs)).numpy()
        returns, lengths = self.stepper.pop_finished()

        def batch_first(a: np.ndarray) -> Tensor:
            return torch.from_numpy(np.ascontiguousarray(np.swapaxes(a, 0, 1)))

        return Rollout(
            obs=batch_first(self._obs),
            actions=batch_first(self._actions),
            log_probs=batch_first(self._log_probs),
            values=batch_first(self._values[:-1]),
            next_values=batch_first(self._values[1:]),
            rewards=batch_first(self._rewards),
            terminated=batch_first(self._terminated),
            truncated=batch_first(self._truncated),
            mask=batch_first(self._real.astype(np.float32)),
            episode_returns=returns,
            episode_lengths=lengths,
            env_steps=int(self._real.sum()),
        )
