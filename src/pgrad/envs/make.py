"""Build Gymnasium vector environments and describe their spaces.

Autoreset convention: pgrad steps every vector environment in Gymnasium's ``NEXT_STEP`` autoreset
mode, the only mode Gymnasium's native vector environments (such as CartPole-v1's) implement. When
sub-environment ``n`` ends an episode at step ``k``, the observation returned at ``k`` is the true
final observation; step ``k + 1`` of that sub-environment is a reset step whose action is ignored
and whose reward and flags are zero, and the observation it returns starts the next episode. The
rollout code discards reset steps, so no transition crosses an episode boundary.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from pgrad.envs.finite import register_envs
from pgrad.errors import PgradError


@dataclass(frozen=True)
class EnvInfo:
    """What a policy needs to know of an environment's spaces.

    Attributes:
        env_id: the Gymnasium id.
        obs_dim: size of the flattened observation.
        discrete: True for a Discrete action space, False for a Box.
        act_dim: number of actions (Discrete) or the action vector's size (Box).
        action_low, action_high: bounds of a Box action space, float [act_dim]; None if Discrete.
        reward_threshold: the registered score that counts as solved, if any.
    """

    env_id: str
    obs_dim: int
    discrete: bool
    act_dim: int
    action_low: tuple[float, ...] | None = None
    action_high: tuple[float, ...] | None = None
    reward_threshold: float | None = None


def check_env_id(env_id: str) -> None:
    """Raise a one-line :class:`PgradError` naming close matches if ``env_id`` is not registered.

    pgrad's own environments (the finite MDPs, ``pgrad/...``) are registered first.
    """
    register_envs()
    if env_id in gym.registry or ":" in env_id:
        return
    known = list(gym.registry.keys())
    close = difflib.get_close_matches(env_id, known, n=3, cutoff=0.5)
    if not close:
        lowered = env_id.lower().split("-v")[0]
        close = [k for k in known if lowered and lowered in k.lower()][:3]
    hint = f"did you mean {', '.join(close)}?" if close else "see gymnasium.pprint_registry()"
    raise PgradError(f"unknown environment id {env_id!r}; {hint}")


def describe_spaces(
    env_id: str,
    observation_space: gym.Space[Any],
    action_space: gym.Space[Any],
    reward_threshold: float | None = None,
) -> EnvInfo:
    """Check that pgrad supports the spaces and summarise them as an :class:`EnvInfo`."""
    if not isinstance(observation_space, gym.spaces.Box):
        raise PgradError(
            f"{env_id} has observation space {observation_space}, which pgrad does not support; "
            "it needs a Box observation space (wrap the environment, e.g. FlattenObservation)"
        )
    obs_dim = int(np.prod(observation_space.shape))
    if isinstance(action_space, gym.spaces.Discrete):
        if int(action_space.start) != 0:
            raise PgradError(
                f"{env_id} has action space {action_space} starting at {action_space.start}; "
                "pgrad needs Discrete actions numbered from 0"
            )
        return EnvInfo(env_id, obs_dim, True, int(action_space.n), None, None, reward_threshold)
    if isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1:
        low = tuple(float(x) for x in action_space.low)
        high = tuple(float(x) for x in action_space.high)
        return EnvInfo(env_id, obs_dim, False, action_space.shape[0], low, high, reward_threshold)
    raise PgradError(
        f"{env_id} has action space {action_space}, which pgrad does not support; "
        "it supports Discrete and one-dimensional Box action spaces"
    )


def make_vector_env(
    env_id: str, num_envs: int, max_episode_steps: int | None = None
) -> tuple[VectorEnv, EnvInfo]:
    """Create ``num_envs`` copies of ``env_id`` stepped together, in NEXT_STEP autoreset mode.

    Uses the environment's native vector implementation when Gymnasium registers one (as for
    CartPole-v1), and a synchronous vector of single environments otherwise.

    Raises:
        PgradError: unknown id, missing optional dependency, or unsupported spaces.
    """
    check_env_id(env_id)
    kwargs: dict[str, Any] = {}
    if max_episode_steps is not None:
        kwargs["max_episode_steps"] = max_episode_steps
    try:
        spec = gym.spec(env_id)
        if spec.vector_entry_point is not None:
            envs = gym.make_vec(env_id, num_envs, vectorization_mode="vector_entry_point", **kwargs)
        else:
            envs = gym.make_vec(
                env_id,
                num_envs,
                vectorization_mode="sync",
                vector_kwargs={"autoreset_mode": AutoresetMode.NEXT_STEP},
                **kwargs,
            )
    except gym.error.DependencyNotInstalled as exc:
        raise PgradError(f"cannot create {env_id}: {_one_line(exc)}") from exc
    except gym.error.Error as exc:
        raise PgradError(f"cannot create {env_id}: {_one_line(exc)}") from exc
    mode = envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if mode != AutoresetMode.NEXT_STEP:
        envs.close()
        raise PgradError(
            f"{env_id}'s vector environment uses autoreset mode {mode}; pgrad needs NEXT_STEP"
        )
    try:
        info = describe_spaces(
            env_id, envs.single_observation_space, envs.single_action_space, spec.reward_threshold
        )
    except PgradError:
        envs.close()
        raise
    return envs, info


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
