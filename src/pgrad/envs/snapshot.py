"""Snapshots of vector environments as plain JSON data, for exact resume.

What is captured, for the vector environment and every object in each copy's wrapper chain: the
attributes that hold plain data (numbers, strings, booleans, NumPy arrays, tuples and lists of
those), every ``numpy.random.Generator`` (its bit generator's state) and MuJoCo's ``MjData``
(``mj_getState`` with ``mjSTATE_INTEGRATION``: everything the next step depends on, the solver's
warm start included). That is the whole dynamic state of Gymnasium's classic-control and MuJoCo
environments, of their native vector versions (CartPole's), of the ``TimeLimit`` and other
wrappers' counters, and of pgrad's finite MDPs: those resume bit-identically.

An attribute holding any other object (a Box2D world, an emulator handle) cannot be captured;
:func:`capture` then reports the environment as not exact (``"exact": false`` with the types),
and a sampler that carries episodes across updates restarts its episodes on resume instead (the
RNG streams are still restored). Objects known to be static (spaces, specs, MuJoCo's model,
renderers not yet opened) are skipped. Nothing here imports or calls code named by the data.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import PassiveEnvChecker

STATIC_TYPES: tuple[type, ...] = (gym.Space, gym.envs.registration.EnvSpec)
"""Attributes of these types never change while stepping."""

SKIPPED_NAMES = frozenset({"env_fns", "envs", "env", "metadata", "_saved_kwargs", "spec",
                           "_cached_spec", "np_random", "unwrapped", "renderer",
                           "mujoco_renderer", "model", "fullpath", "frame_skip",
                           "_ezpickle_args", "_ezpickle_kwargs",
                           "_previous_data"})  # fmt: skip (the last: PassiveEnvChecker's)
"""Attribute names that are wrapped environments (walked separately) or static configuration."""


def capture(envs: Any) -> dict[str, Any]:
    """The state of a vector environment as JSON-ready data (see the module docstring)."""
    unknown: set[str] = set()
    copies = [_chain_state(e, unknown) for e in getattr(envs, "envs", [])]
    out = {"vector": _object_state(envs, unknown), "copies": copies}
    out["exact"] = not unknown and not isinstance(envs, gym.vector.AsyncVectorEnv)
    out["unknown"] = sorted(unknown)
    return out


def restore(envs: Any, state: dict[str, Any]) -> None:
    """Put :func:`capture`'s state back into ``envs`` (built from the same config).

    Raises:
        ValueError: the state does not fit these environments (another env or number of copies).
    """
    copies = getattr(envs, "envs", [])
    if len(copies) != len(state["copies"]):
        raise ValueError(f"a state of {len(state['copies'])} copies for {len(copies)}")
    _set_object_state(envs, state["vector"])
    for env, chain in zip(copies, state["copies"], strict=True):
        links = _chain(env)
        if len(links) != len(chain):
            raise ValueError("the state's wrapper chain does not match the environment's")
        for link, saved in zip(links, chain, strict=True):
            _set_object_state(link, saved)
            if isinstance(link, PassiveEnvChecker):
                _checks_done(link)


def _checks_done(checker: PassiveEnvChecker) -> None:
    """Mark Gymnasium's first-call checks as run (they ran before the snapshot). Its record of
    the first step's data (kept to check the second step does not reuse it) is not episode
    state, and holds objects a snapshot cannot encode (a Dict observation): without it the
    check would fail on the restored copy."""
    checker.checked_reset = checker.checked_step = checker.checked_data_reuse = True
    checker._previous_data = None


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """A NumPy generator's state, JSON-ready."""
    return {"__rng__": rng.bit_generator.state}


def set_rng_state(rng: np.random.Generator, state: dict[str, Any]) -> None:
    """Restore :func:`rng_state` into ``rng`` in place."""
    rng.bit_generator.state = state["__rng__"]


def _chain(env: Any) -> list[Any]:
    links = [env]
    while hasattr(links[-1], "env") and isinstance(links[-1], gym.Wrapper):
        links.append(links[-1].env)
    return links


def _chain_state(env: Any, unknown: set[str]) -> list[dict[str, Any]]:
    return [_object_state(link, unknown) for link in _chain(env)]


def _object_state(obj: Any, unknown: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in vars(obj).items():
        if name in SKIPPED_NAMES or name.startswith("__") or isinstance(value, STATIC_TYPES):
            continue
        encoded = _encode(value)
        if encoded is _UNKNOWN:
            if not _is_static(value):
                unknown.add(f"{type(obj).__name__}.{name}: {type(value).__name__}")
            continue
        out[name] = encoded
    return out


_UNKNOWN = object()


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {"__scalar__": value.item(), "dtype": str(value.dtype)}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"__array__": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, np.random.Generator):
        return rng_state(value)
    if isinstance(value, tuple | list):
        items = [_encode(v) for v in value]
        if any(i is _UNKNOWN for i in items):
            return _UNKNOWN
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if type(value).__name__ == "MjData":
        return _mujoco_state(value)
    return _UNKNOWN


def _is_static(value: Any) -> bool:
    """Callables, modules, dicts of settings, frozen dataclasses (a FiniteMDP) and MuJoCo's model
    carry no episode state."""
    frozen = dataclasses.is_dataclass(value) and value.__dataclass_params__.frozen  # type: ignore[union-attr]
    return callable(value) or isinstance(value, dict) or frozen or type(value).__name__ in (
        "MjModel", "module", "EnvSpec", "Clock", "AutoresetMode")  # fmt: skip


def _mujoco_state(data: Any) -> dict[str, Any]:
    import mujoco  # present whenever an MjData is

    spec = mujoco.mjtState.mjSTATE_INTEGRATION
    model = data.model
    state = np.empty(mujoco.mj_stateSize(model, spec), np.float64)
    mujoco.mj_getState(model, data, state, spec)
    return {"__mujoco__": state.tolist()}


def _decode(value: Any, current: Any) -> Any:
    if isinstance(value, dict):
        if "__array__" in value:
            array = np.asarray(value["__array__"], dtype=value["dtype"]).reshape(value["shape"])
            if isinstance(current, np.ndarray) and current.shape == array.shape:
                current[...] = array  # in place: other objects may hold this array
                return current
            return array
        if "__scalar__" in value:
            return np.dtype(value["dtype"]).type(value["__scalar__"])
        if "__rng__" in value:
            rng = current if isinstance(current, np.random.Generator) else np.random.default_rng()
            set_rng_state(rng, value)
            return rng
        if "__tuple__" in value:
            return tuple(_decode(v, None) for v in value["__tuple__"])
        if "__mujoco__" in value:
            _set_mujoco_state(current, value["__mujoco__"])
            return current
    if isinstance(value, list):
        return [_decode(v, None) for v in value]
    return value


def _set_object_state(obj: Any, state: dict[str, Any]) -> None:
    for name, value in state.items():
        setattr(obj, name, _decode(value, getattr(obj, name, None)))


def _set_mujoco_state(data: Any, values: list[float]) -> None:
    import mujoco

    spec = mujoco.mjtState.mjSTATE_INTEGRATION
    mujoco.mj_setState(data.model, data, np.asarray(values, np.float64), spec)
