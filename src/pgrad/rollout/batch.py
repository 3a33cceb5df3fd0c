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
    "obs", "actions", "rewards", "terminated", "truncated", "mask", "starts",
    "values", "next_values", "log_probs", "advantages", "targets",
)  # fmt: skip
"""The fields indexed by step; :meth:`Batch.flatten` and :meth:`Batch.minibatches` carry them."""


@dataclass(frozen=True)
class Batch:
    """B rows of T steps; each step field is [B, T, ...] (after :meth:`flatten`: [B * T, ...]).

    Attributes:
        obs: [B, T, obs_dim], s_t in its stored form (:mod:`pgrad.envs.observations`: float32,
            or uint8 for images).
        actions: [B, T, *action_shape] (the head's dtype; Box samples unclipped).
        rewards: float32 [B, T], r_t (zero on masked steps).
        terminated, truncated: bool [B, T], how an episode ended after step t.
        mask: float32 [B, T], 1.0 on real steps; 0.0 on padding and autoreset steps.
        starts: bool [B, T], steps whose observation is the first of an episode (a recurrent
            policy zeroes its state before them).
        initial_state: float32 [B, S], a recurrent policy's state before each row's step 0
            (S = 0 for a feedforward policy); a row field, kept whole by :meth:`minibatches`.
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
    starts: Tensor
    initial_state: Tensor
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
    def transitions(self) -> int:
        """Real transitions the batch holds (its mask's sum); ``env_steps - transitions`` were
        simulated without being kept (idle copies, episodes dropped in flight)."""
        return int(self.mask.sum())

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

    @property
    def recurrent(self) -> bool:
        """Whether the batch was sampled by a recurrent policy (its rows must stay whole)."""
        return int(self.initial_state.shape[1]) > 0

    def minibatches(self, k: int, generator: torch.Generator) -> Iterator[Batch]:
        """k minibatches of equal size from one random permutation: of the steps (flat
        minibatches), or of the rows for a recurrent batch (minibatches [B / k, T] of whole
        rows, each with its initial state).

        Raises:
            ValueError: when k does not divide B * T (B for a recurrent batch).
        """
        if self.recurrent:
            rows = self.num_rows
            if rows % k:
                raise ValueError(f"{k} minibatches do not divide {rows} rows of a recurrent batch")
            order = torch.randperm(rows, generator=generator)
            for index in order.split(rows // k):
                part = self._map(lambda x, index=index: x[index])
                yield dataclasses.replace(part, initial_state=self.initial_state[index])
            return
        flat = self.flatten()
        size = flat.mask.shape[0]
        if size % k:
            raise ValueError(f"{k} minibatches do not divide {size} steps")
        order = torch.randperm(size, generator=generator).numpy()
        # One NumPy gather per field for the whole pass, then slices of it: a PyTorch gather per
        # field and minibatch cost 3 us each, 36 us a minibatch at PPO's MuJoCo settings.
        shuffled = flat._map(lambda x: torch.from_numpy(x.numpy()[order]))
        step = size // k
        for start in range(0, size, step):
            yield shuffled._map(lambda x, start=start: x[start : start + step])

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
    initial_state: torch.Tensor,
    **episodes: Any,
) -> Batch:
    """A :class:`Batch` from recorded steps, with values and log-probs from one batched forward.

    The step convention of :mod:`pgrad.types` lives here: ``next_values[b, t]`` is V of
    ``next_obs[b, t]``, the true successor of step t (which is the final observation where an
    episode ended; a terminated step's bootstrap is dropped by the estimators, never here).

    Args:
        policy: the policy that sampled the steps (its parameters unchanged since).
        steps: NumPy arrays [B, T, ...] named obs, actions, rewards, terminated, truncated,
            mask, starts.
        next_obs: [B, T, obs_dim], the successor of each step (stored form).
        log_probs: keep log pi_old(a_t|s_t) (PPO's ratio needs it).
        initial_state: [B, S], the policy's state before each row's step 0.
        episodes: ``episode_returns``, ``episode_lengths``, ``env_steps``, ``complete_episodes``.
    """
    t = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in steps.items()}
    mask = t["mask"]
    if policy.has_value or log_probs or policy.recurrent:
        old, values, next_values = policy.rollout_outputs(
            t["obs"], t["actions"], torch.from_numpy(next_obs), mask, t["starts"], initial_state,
            log_probs=log_probs,
        )
    else:
        old, values, next_values = None, torch.zeros_like(mask), torch.zeros_like(mask)
    return Batch(values=values, next_values=next_values, log_probs=old if log_probs else None,
                 initial_state=initial_state, **t, **episodes)  # fmt: skip


def concat_rows(parts: list[Batch]) -> Batch:
    """One batch of the rows of ``parts``, in order: step fields padded with zeros (mask 0) to
    the longest T, episodes in part order, environment steps summed.

    The remote sampler assembles its copies' batches with it, so the batch is the same whichever
    worker sampled each copy.
    """
    horizon = max(int(p.mask.shape[1]) for p in parts)

    def padded(x: Tensor) -> Tensor:
        if x.shape[1] == horizon:
            return x
        zeros = x.new_zeros((x.shape[0], horizon - x.shape[1], *x.shape[2:]))
        return torch.cat([x, zeros], dim=1)

    first = parts[0]
    steps = {name: torch.cat([padded(getattr(p, name)) for p in parts])
             for name in STEP_FIELDS if getattr(first, name) is not None}  # fmt: skip
    return dataclasses.replace(
        first, **steps, initial_state=torch.cat([p.initial_state for p in parts]),
        episode_returns=np.concatenate([p.episode_returns for p in parts]),
        episode_lengths=np.concatenate([p.episode_lengths for p in parts]),
        env_steps=sum(p.env_steps for p in parts),
    )  # fmt: skip
