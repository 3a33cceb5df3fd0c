"""Batched evaluation: E episodes stepped together, one per copy of a vector environment."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium.vector import VectorEnv

from pgrad.config import EnvConfig
from pgrad.envs.make import make_vector_env
from pgrad.envs.observations import batch_flattener
from pgrad.envs.serial import StepsSome
from pgrad.envs.snapshot import capture, restore, rng_state, set_rng_state
from pgrad.policies.actor import Acting, Recurrent, make_actor
from pgrad.policies.mlp import MLPPolicy


@dataclass(frozen=True)
class Evaluation:
    """Returns and lengths of E evaluation episodes."""

    returns: np.ndarray
    lengths: np.ndarray

    @property
    def mean(self) -> float:
        """Mean undiscounted return."""
        return float(self.returns.mean())

    @property
    def std(self) -> float:
        """Standard deviation of the return over episodes."""
        return float(self.returns.std())

    @property
    def episodes(self) -> int:
        """E."""
        return int(self.returns.shape[0])


class Evaluator:
    """Runs one episode in each of E copies of an environment, all stepped together.

    The evaluator owns its environments and random generator, so evaluating never changes the
    training run's random streams: a run's training is the same whatever the evaluation schedule.
    """

    def __init__(self, env: EnvConfig | str, episodes: int, seed: int) -> None:
        self.envs: VectorEnv
        env = EnvConfig(id=env) if isinstance(env, str) else env
        if (
            env.vectorization_mode == "async"
        ):  # hundreds of processes would cost more than they save
            env = dataclasses.replace(env, vectorization_mode="sync")
        self.envs, self.info = make_vector_env(env, episodes)
        self._partial = isinstance(self.envs, StepsSome)
        self._flatten = batch_flattener(self.envs.single_observation_space)
        self._seed: int | None = seed
        self.rng = np.random.default_rng(seed)

    def run(self, policy: MLPPolicy | Acting, deterministic: bool = False) -> Evaluation:
        """Evaluate ``policy``, sampling its actions unless ``deterministic`` (argmax / mean).

        ``policy`` is a pgrad policy (acting through :func:`make_actor`) or anything with the
        :class:`Acting` methods, such as an adapter around another library's model.
        """
        actor = make_actor(policy) if isinstance(policy, MLPPolicy) else policy
        n = self.envs.num_envs
        if isinstance(actor, Recurrent):
            actor.begin(n)  # every copy runs one episode from the start state
        obs, _ = self.envs.reset(seed=self._seed)
        self._seed = None
        alive = np.ones(n, np.bool_)
        returns = np.zeros(n, np.float64)
        lengths = np.zeros(n, np.int64)
        while alive.any():
            flat = self._flatten(obs, n)
            actions = actor.mode(flat) if deterministic else actor.sample(flat, self.rng)
            if self._partial:  # copies whose episode is over are not simulated any more
                obs, rewards, terminated, truncated, _ = self.envs.step_active(  # type: ignore[attr-defined]
                    actor.env_action(actions), alive)
            else:
                obs, rewards, terminated, truncated, _ = self.envs.step(
                    actor.env_action(actions))
            returns += np.where(alive, rewards, 0.0)
            lengths += alive
            alive &= ~(terminated | truncated)
        return Evaluation(returns=returns, lengths=lengths)

    def state_dict(self) -> dict[str, Any]:
        """The sampling stream, the environments' random streams, and the pending first seed."""
        return {"rng": rng_state(self.rng), "seed": self._seed, "envs": capture(self.envs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`: the next evaluations are those the saved one would run."""
        set_rng_state(self.rng, state["rng"])
        self._seed = state["seed"]
        restore(self.envs, state["envs"])

    def close(self) -> None:
        """Release the environments."""
        self.envs.close()
