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
import importlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from pgrad.config import EnvConfig
from pgrad.envs.finite import register_envs
from pgrad.envs.observations import observation_layout
from pgrad.envs.serial import SerialVectorEnv
from pgrad.errors import PgradError


@dataclass(frozen=True)
class EnvInfo:
    """What a policy needs to know of an environment.

    Attributes:
        env_id: the Gymnasium id (as given: MODULE:ID keeps its module).
        obs_dim: columns of a stored observation (:mod:`pgrad.envs.observations`).
        action_space: the action space of one copy (its head is chosen from it).
        reward_threshold: the registered score that counts as solved, if any.
        observation_space: the observation space of one copy (its encoder is chosen from it);
            None stands for a flat float32 Box of ``obs_dim``.
    """

    env_id: str
    obs_dim: int
    action_space: gym.Space[Any]
    reward_threshold: float | None = None
    observation_space: gym.Space[Any] | None = None

    @property
    def obs_space(self) -> gym.Space[Any]:
        """The observation space (a flat float32 Box of ``obs_dim`` where none is recorded)."""
        if self.observation_space is None:
            return gym.spaces.Box(-np.inf, np.inf, (self.obs_dim,), np.float32)
        return self.observation_space


FACTORY_NAMESPACE = "pgrad-user"
"""Environments passed to the API as factories are registered under this namespace."""


def register_factory(factory: Callable[[], gym.Env[Any, Any]]) -> str:
    """Register ``factory`` (a callable returning a new environment) and return its id.

    Raises:
        PgradError: an environment instance, or anything else that is not a factory.
    """
    if isinstance(factory, gym.Env):
        raise PgradError(
            "env is an environment instance; pass a factory such as `lambda: MyEnv()` (pgrad "
            "needs several copies, for the vector environment and for evaluation)"
        )
    if not callable(factory):
        raise PgradError(f"env must be a Gymnasium id or a factory, got {type(factory).__name__}")
    name = re.sub(r"[^A-Za-z0-9_]+", "_", getattr(factory, "__name__", "env")).strip("_") or "env"
    env_id = f"{FACTORY_NAMESPACE}/{name}-{id(factory):x}-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=factory)
    return env_id


def import_packages(packages: tuple[str, ...]) -> None:
    """Import packages whose import registers environments (``--gym-packages``).

    Raises:
        PgradError: a package that cannot be imported.
    """
    for package in packages:
        try:
            module = importlib.import_module(package)
        except Exception as exc:  # any failure of a user's package is a bad input
            raise PgradError(
                f"cannot import {package!r} from --gym-packages: {_one_line(exc)}; install it "
                "or drop it"
            ) from None
        gym.register_envs(module)


def _register_ale() -> None:
    import ale_py

    gym.register_envs(ale_py)


def _register_minatar() -> None:
    import minatar.gym

    minatar.gym.register_envs()


NAMESPACES: dict[str, tuple[Callable[[], None], str]] = {
    "ALE/": (_register_ale, 'pip install -e ".[atari]" (ale-py ships the ROMs)'),
    "MinAtar/": (_register_minatar, 'pip install -e ".[atari]" (it installs minatar)'),
}
"""Namespaces whose package pgrad imports by itself when an id names them, and how to install
the package."""


def _register_namespace(env_id: str) -> None:
    for prefix, (register, install) in NAMESPACES.items():
        if env_id.startswith(prefix) and env_id not in gym.registry:
            try:
                register()
            except ImportError as exc:
                raise PgradError(f"{env_id} needs {exc.name}: {install}") from None


def resolve_env_id(env_id: str) -> str:
    """The registered id for ``env_id``, importing MODULE first for ``MODULE:ID`` (and the
    package of an ALE/ or MinAtar/ id).

    Raises:
        PgradError: a module that cannot be imported, or an unknown id (naming close matches).
    """
    register_envs()
    _register_namespace(env_id)
    module, sep, name = env_id.rpartition(":")
    if sep:
        try:
            importlib.import_module(module)
        except Exception as exc:
            raise PgradError(
                f"cannot import module {module!r} named in env {env_id!r}: {_one_line(exc)}"
            ) from None
        env_id = name
    check_env_id(env_id)
    return env_id


def check_env_id(env_id: str) -> None:
    """Raise a one-line :class:`PgradError` naming close matches if ``env_id`` is not registered."""
    register_envs()
    if env_id in gym.registry:
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
    """Check that pgrad reads the observation space; summarise the spaces as an EnvInfo.

    Action spaces are checked by :func:`pgrad.policies.heads.make_head`, which knows the heads.
    """
    try:
        layout = observation_layout(observation_space)
    except PgradError as exc:
        raise PgradError(f"{env_id}: {exc}") from None
    return EnvInfo(env_id, layout.dim, action_space, reward_threshold, observation_space)


def make_vector_env(
    cfg: EnvConfig | str, num_envs: int | None = None
) -> tuple[VectorEnv, EnvInfo]:
    """Create ``num_envs`` (default ``cfg.num_envs``) copies of ``cfg``'s environment (or of a
    Gymnasium id) stepped together, in NEXT_STEP autoreset mode.

    ``vectorization_mode`` auto uses the environment's native vector implementation when Gymnasium
    registers one (as for CartPole-v1), and a synchronous vector of single environments otherwise.

    Raises:
        PgradError: unknown id, missing optional dependency, bad keyword arguments, or an
            unsupported observation space.
    """
    cfg = EnvConfig(id=cfg) if isinstance(cfg, str) else cfg
    import_packages(cfg.gym_packages)
    env_id = resolve_env_id(cfg.id)
    envs = _make_vec(cfg, env_id, num_envs or cfg.num_envs)
    mode = envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if mode != AutoresetMode.NEXT_STEP:
        envs.close()
        raise PgradError(
            f"{env_id}'s vector environment uses autoreset mode {mode}; pgrad needs NEXT_STEP"
        )
    try:
        info = describe_spaces(cfg.id, envs.single_observation_space, envs.single_action_space,
                               gym.spec(env_id).reward_threshold)  # fmt: skip
    except PgradError:
        envs.close()
        raise
    return envs, info


def _make_vec(cfg: EnvConfig, env_id: str, num_envs: int) -> VectorEnv:
    kwargs: dict[str, Any] = cfg.kwargs()
    if cfg.max_episode_steps > 0:
        kwargs["max_episode_steps"] = cfg.max_episode_steps
    mode = cfg.vectorization_mode
    wrappers: list[Callable[[gym.Env[Any, Any]], gym.Env[Any, Any]]] = []
    if atari_preprocessing(cfg, env_id):
        kwargs.setdefault("frameskip", 1)  # AtariPreprocessing skips frames itself
        wrappers.append(_atari_wrapper)
        mode = "sync" if mode == "auto" else mode
    if mode == "auto":
        mode = "vector_entry_point" if gym.spec(env_id).vector_entry_point else "sync"
    vector_kwargs: dict[str, Any] = (
        {} if mode == "vector_entry_point" else {"autoreset_mode": AutoresetMode.NEXT_STEP}
    )
    try:
        if mode == "sync":  # in this process: pgrad's lean SyncVectorEnv (pgrad.envs.serial)
            return SerialVectorEnv([partial(_make_one, env_id, kwargs, wrappers)] * num_envs)
        return gym.make_vec(env_id, num_envs, vectorization_mode=mode, vector_kwargs=vector_kwargs,
                            wrappers=wrappers or None, **kwargs)  # fmt: skip
    except Exception as exc:  # any failure of someone else's constructor is an error of input
        extra = f" with env_kwargs {cfg.kwargs()}" if cfg.env_kwargs else ""
        hint = "; install what it needs" if isinstance(exc, ImportError) else ""
        raise PgradError(f"cannot create {env_id}{extra}: {_one_line(exc)}{hint}") from None


def _make_one(env_id: str, kwargs: dict[str, Any],
              wrappers: list[Callable[[gym.Env[Any, Any]], gym.Env[Any, Any]]]
              ) -> gym.Env[Any, Any]:  # fmt: skip
    """One copy, as ``gym.make_vec`` makes each: ``gym.make`` and then the wrappers."""
    env = gym.make(env_id, **kwargs)
    for wrapper in wrappers:
        env = wrapper(env)
    return env


def make_render_env(cfg: EnvConfig) -> gym.Env[Any, Any]:
    """One copy of ``cfg``'s environment as training builds it, rendering ``rgb_array`` frames.

    Raises:
        PgradError: the environment cannot be built, or cannot render frames.
    """
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        # Off-screen frames need no window: without this, pygame's SDL probes for a display
        # on a headless machine and prints an "error: XDG_RUNTIME_DIR ..." line that is none.
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import_packages(cfg.gym_packages)
    env_id = resolve_env_id(cfg.id)
    kwargs: dict[str, Any] = {**cfg.kwargs(), "render_mode": "rgb_array"}
    if cfg.max_episode_steps > 0:
        kwargs["max_episode_steps"] = cfg.max_episode_steps
    wrappers = [_atari_wrapper] if atari_preprocessing(cfg, env_id) else []
    if wrappers:
        kwargs.setdefault("frameskip", 1)
    try:
        return _make_one(env_id, kwargs, wrappers)
    except Exception as exc:  # someone else's constructor: an error of input
        raise PgradError(
            f"cannot create {env_id} with render_mode='rgb_array': {_one_line(exc)}; it must "
            "support rgb_array rendering"
        ) from None


ATARI_FRAME_STACK = 4
"""Frames stacked by the atari preprocessing (the observation is (4, 84, 84) uint8)."""


def atari_preprocessing(cfg: EnvConfig, env_id: str) -> bool:
    """Whether ``cfg`` asks for the Atari wrappers (``preprocess`` atari, or auto and ALE/)."""
    return cfg.preprocess == "atari" or (cfg.preprocess == "auto" and env_id.startswith("ALE/"))


def _atari_wrapper(env: gym.Env[Any, Any]) -> gym.Env[Any, Any]:
    """Gymnasium's AtariPreprocessing (the settings of Machado et al., 2018, with 30 noop starts)
    and FrameStackObservation of :data:`ATARI_FRAME_STACK` frames."""
    from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation

    env = AtariPreprocessing(env, noop_max=30, frame_skip=4, screen_size=84, grayscale_obs=True)
    return FrameStackObservation(env, ATARI_FRAME_STACK)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
