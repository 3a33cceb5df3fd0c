"""One batch type for every sampler, the Sampler protocol, and the step convention in one place.

A :class:`Batch` holds B rows of T steps (:mod:`pgrad.types`): m complete episodes padded to the
longest (:class:`pgrad.rollout.episodes.EpisodeSampler`), or T steps of N copies whose episodes
run on across batches (:class:`pgrad.rollout.fixed.FixedLengthSampler`). Every sampler returns
the same fields, filled by :func:`make_batch`, the one place where V(s_t), V(s_{t+1}) and
log pi_old(a_t|s_t) are computed from a batch's observations and successors.

A :class:`Sampler` owns its environments and its random streams, takes the batch size and
rollout length in its constructor, and returns whole batches: ``collect(policy) -> Batch``. A
sampler on other processes or machines implements the same protocol (weights in, batches out).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from pgrad.policies.mlp import MLPPolicy

STEP_FIELDS = (
    "obs", "actions", "rewards", "terminated", "truncated", "mask",
    "values", "next_values", "log_probs", "advantages", "targets",
)  # fmt: skip
"""The fields indexed by step; :meth:`Batch.flatten` and :meth:`Batch.minibatches` carry them."""


@dataclass(frozen=True)
class Batch:
    """B rows of T steps; each step field is [B, T, ...] (after :meth:`flatten`: [B * T, ...]).

    Attributes:
        obs: float32 [B, T, obs_dim], s_t.
        actions: [B, T, *action_shape] (the head's dtype; Box samples unclipped).
        rewards: float32 [B, T], r_t (zero on masked steps).
        terminated, truncated: bool [B, T], how an episode ended after step t.
        mask: float32 [B, T], 1.0 on real steps; 0.0 on padding and autoreset steps.
        values: float32 [B, T], V(s_t) at sampling time (zeros without a value function).
        next_values: float32 [B, T], V of the true successor of step t (the final observation
            where the episode ended; zeros without a value function).
        log_probs: float32 [B, T], log pi_old(a_t|s_t) at sampling time, or None when the
            sampler was not asked for them.
        advantages, targets: float32 [B, T], Psi_t and value targets once an algorithm's
            estimate step has filled them (:meth:`with_estimates`); None before.
        episode_returns, episode_lengths: float64 [E], int64 [E], the E episodes that ended in
            the batch, in order of ending.
        env_steps: environment steps simulated to collect the batch (idle copies included).
        complete_episodes: True when each row is one whole episode (none continues into the next
            batch); False for fixed-length rollouts.
    """

    obs: Tensor
    actions: Tensor
    rewards: Tensor
    terminated: Tensor
    truncated: Tensor
    mask: Tensor
    values: Tensor
    next_values: Tensor
    log_probs: Tensor | None
    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    env_steps: int
    complete_episodes: bool
    advantages: Tensor | None = None
    targets: Tensor | None = None

    @property
    def num_rows(self) -> int:
        """B (m episodes, or N copies)."""
        return int(self.mask.shape[0])

    def with_estimates(self, advantages: Tensor, targets: Tensor) -> Batch:
        """The batch with Psi_t and value targets [B, T] attached."""
        return dataclasses.replace(self, advantages=advantages, targets=targets)

    def flatten(self) -> Batch:
        """Every step field reshaped from [B, T, ...] to [B * T, ...] (row-major: row, then t)."""
        size = self.mask.numel()
        return self._map(lambda x: x.reshape(size, *x.shape[2:]))

    def minibatches(self, k: int, generator: torch.Generator) -> Iterator[Batch]:
        """k flat minibatches of equal size from one random permutation of the steps.

        Raises:
            ValueError: when k does not divide B * T.
        """
        flat = self.flatten()
        size = flat.mask.shape[0]
        if size % k:
            raise ValueError(f"{k} minibatches do not divide {size} steps")
        order = torch.randperm(size, generator=generator)
        for index in order.split(size // k):
            yield flat._map(lambda x, index=index: x[index])

    def _map(self, fn: Any) -> Batch:
        changes = {name: fn(getattr(self, name)) for name in STEP_FIELDS
                   if getattr(self, name) is not None}  # fmt: skip
        return dataclasses.replace(self, **changes)


class Sampler(Protocol):
    """Collects batches; owns its environments and seeded random streams."""

    num_envs: int
    """Environment copies it steps together."""

    def collect(self, policy: MLPPolicy) -> Batch:
        """One batch sampled by ``policy`` (acting with its current parameters)."""
        ...

    def close(self) -> None:
        """Release the environments."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """JSON-ready state that determines the next batches (random streams, environments)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` into a sampler built from the same config."""
        ...


def make_batch(
    policy: MLPPolicy,
    steps: dict[str, np.ndarray],
    next_obs: np.ndarray,
    log_probs: bool,
    **episodes: Any,
) -> Batch:
    """A :class:`Batch` from recorded steps, with values and log-probs from one batched forward.

    The step convention of :mod:`pgrad.types` lives here: ``next_values[b, t]`` is V of
    ``next_obs[b, t]``, the true successor of step t (which is the final observation where an
    episode ended; a terminated step's bootstrap is dropped by the estimators, never here).

    Args:
        policy: the policy that sampled the steps (its parameters unchanged since).
        steps: NumPy arrays [B, T, ...] named obs, actions, rewards, terminated, truncated, mask.
        next_obs: float32 [B, T, obs_dim], the successor of each step.
        log_probs: compute log pi_old(a_t|s_t) (PPO's ratio needs it).
        episodes: ``episode_returns``, ``episode_lengths``, ``env_steps``, ``complete_episodes``.
    """
    t = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in steps.items()}
    mask = t["mask"]
    valid = mask.bool()
    values, next_values, old = torch.zeros_like(mask), torch.zeros_like(mask), None
    with torch.no_grad():
        if policy.has_value:
            values[valid] = policy.value(t["obs"][valid])
            next_values[valid] = policy.value(torch.from_numpy(next_obs)[valid])
        if log_probs:
            old = torch.zeros_like(mask)
            old[valid] = policy.evaluate_actions(t["obs"][valid], t["actions"][valid])[0]
    return Batch(values=values, next_values=next_values, log_probs=old, **t, **episodes)
