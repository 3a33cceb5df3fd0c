"""Gymnasium spaces as JSON, so a checkpoint can rebuild its policy without the environment.

The spaces pgrad reads and acts in are written: Box, Discrete, MultiDiscrete, MultiBinary, and
Dict and Tuple of them. Reading checks every field, so a malformed checkpoint fails with a
one-line error instead of building something else.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from pgrad.errors import PgradError

MAX_DEPTH = 8
"""Dict and Tuple spaces nest at most this deep in a description (a hostile file cannot recurse
without end)."""


def space_to_json(space: gym.Space[Any]) -> dict[str, Any]:
    """A JSON-ready description: ``{"type": "Discrete", "n", "start"}``, ``{"type": "Box",
    "shape", "low", "high", "dtype"}``, ``{"type": "Dict", "spaces": {key: ...}}``, ..."""
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "low": _bounds(space.low),
            "high": _bounds(space.high),
            "dtype": str(space.dtype),
        }
    if isinstance(space, gym.spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist(),
                "start": space.start.tolist()}  # fmt: skip
    if isinstance(space, gym.spaces.MultiBinary):
        return {"type": "MultiBinary", "n": list(space.shape)}
    if isinstance(space, gym.spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_to_json(s) for k, s in space.spaces.items()}}
    if isinstance(space, gym.spaces.Tuple):
        return {"type": "Tuple", "spaces": [space_to_json(s) for s in space.spaces]}
    raise PgradError(f"space {space} cannot be written to a checkpoint")


def _bounds(values: np.ndarray) -> Any:
    """Bounds as JSON: one number where they are all equal (an image's 0 and 255), infinities
    as the strings "inf" and "-inf" (strict JSON has no infinity)."""
    flat = np.asarray(values, np.float64).reshape(-1)
    items = [flat[0]] if (flat == flat[0]).all() else flat
    out = [float(v) if np.isfinite(v) else ("inf" if v > 0 else "-inf") for v in items]
    return out[0] if len(out) == 1 and flat.size > 1 else out


def _read_bounds(data: Any, size: int) -> np.ndarray:
    items = data if isinstance(data, list) else [data]
    if not all((isinstance(v, int | float) and not isinstance(v, bool)) or v in ("inf", "-inf")
               for v in items):
        raise ValueError("bounds must be numbers, 'inf' or '-inf'")  # fmt: skip
    values = np.array([float(v) for v in items], np.float64)
    if np.isnan(values).any():
        raise ValueError("bounds must not be NaN")
    if values.size == 1:
        return np.full(size, values[0])
    if values.size != size:
        raise ValueError("low/high do not match the shape")
    return values


_TYPES = ("Discrete", "Box", "MultiDiscrete", "MultiBinary", "Dict", "Tuple")


def space_from_json(data: Any, depth: int = 0) -> gym.Space[Any]:
    """Inverse of :func:`space_to_json`.

    Raises:
        PgradError: not a space this pgrad writes, or fields of the wrong type or size.
    """
    if not isinstance(data, dict) or data.get("type") not in _TYPES or depth > MAX_DEPTH:
        raise PgradError(f"not a space description: {str(data)[:80]}")
    try:
        return _READERS[data["type"]](data, depth)
    except PgradError:
        raise
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise PgradError(f"malformed {data.get('type')} space description: {exc}") from None


def _ints(values: Any, name: str, least: int) -> list[int]:
    if not (isinstance(values, list) and values and
            all(isinstance(v, int) and not isinstance(v, bool) and v >= least for v in values)):
        raise ValueError(f"{name} must be a list of integers >= {least}, got {str(values)[:40]}")
    return values  # fmt: skip


def _discrete(data: dict[str, Any], depth: int) -> gym.Space[Any]:
    n, start = data["n"], data.get("start", 0)
    if not (isinstance(n, int) and isinstance(start, int) and n >= 1):
        raise ValueError(f"n={n!r}, start={start!r}")
    return gym.spaces.Discrete(n, start=start)


def _box(data: dict[str, Any], depth: int) -> gym.Space[Any]:
    shape = tuple(_ints(data["shape"], "shape", 1))
    size = int(np.prod(shape))
    low, high = _read_bounds(data["low"], size), _read_bounds(data["high"], size)
    dtype = np.dtype(data.get("dtype", "float32"))
    if dtype == np.bool_:
        return gym.spaces.Box(0, 1, shape, np.bool_)
    return gym.spaces.Box(low.reshape(shape).astype(dtype), high.reshape(shape).astype(dtype),
                          shape, dtype)  # fmt: skip


def _multi_discrete(data: dict[str, Any], depth: int) -> gym.Space[Any]:
    nvec = _ints(data["nvec"], "nvec", 1)
    start = data.get("start", [0] * len(nvec))
    if not (isinstance(start, list) and len(start) == len(nvec)
            and all(isinstance(s, int) for s in start)):
        raise ValueError("start must be a list of integers as long as nvec")  # fmt: skip
    return gym.spaces.MultiDiscrete(nvec, start=start)


def _multi_binary(data: dict[str, Any], depth: int) -> gym.Space[Any]:
    n = _ints(data["n"], "n", 1)
    return gym.spaces.MultiBinary(n[0] if len(n) == 1 else n)


def _dict(data: dict[str, Any], depth: int) -> gym.Space[Any]:
    spaces = data["spaces"]
    if not (isinstance(spaces, dict) and spaces):
        raise ValueError("spaces must be a non-empty object")
    return gym.spaces.Dict({str(k): space_from_json(v, depth + 1) for k, v in spaces.items()})


def _tuple(data: dict[str, Any], depth: int) -> gym.Space[Any]:
    spaces = data["spaces"]
    if not (isinstance(spaces, list) and spaces):
        raise ValueError("spaces must be a non-empty list")
    return gym.spaces.Tuple([space_from_json(v, depth + 1) for v in spaces])


_READERS = {"Discrete": _discrete, "Box": _box, "MultiDiscrete": _multi_discrete,
            "MultiBinary": _multi_binary, "Dict": _dict, "Tuple": _tuple}  # fmt: skip
