"""Gymnasium spaces as JSON, so a checkpoint can rebuild its policy without the environment.

Only the spaces pgrad has heads and encoders for are written; reading checks every field, so a
malformed checkpoint fails with a one-line error instead of building something else.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from pgrad.errors import PgradError


def space_to_json(space: gym.Space[Any]) -> dict[str, Any]:
    """``{"type": "Discrete", "n", "start"}`` or ``{"type": "Box", "shape", "low", "high"}``."""
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "low": np.asarray(space.low, np.float64).reshape(-1).tolist(),
            "high": np.asarray(space.high, np.float64).reshape(-1).tolist(),
            "dtype": str(space.dtype),
        }
    raise PgradError(f"space {space} cannot be written to a checkpoint")


def space_from_json(data: Any) -> gym.Space[Any]:
    """Inverse of :func:`space_to_json`.

    Raises:
        PgradError: not a space this pgrad writes, or fields of the wrong type or size.
    """
    if not isinstance(data, dict) or data.get("type") not in ("Discrete", "Box"):
        raise PgradError(f"not a space description: {str(data)[:80]}")
    try:
        if data["type"] == "Discrete":
            n, start = data["n"], data.get("start", 0)
            if not (isinstance(n, int) and isinstance(start, int) and n >= 1):
                raise ValueError(f"n={n!r}, start={start!r}")
            return gym.spaces.Discrete(n, start=start)
        shape = tuple(data["shape"])
        low = np.asarray(data["low"], np.float64)
        high = np.asarray(data["high"], np.float64)
        if not all(isinstance(s, int) and s >= 1 for s in shape):
            raise ValueError(f"shape {shape}")
        if low.size != int(np.prod(shape)) or high.size != low.size:
            raise ValueError("low/high do not match the shape")
        dtype = np.dtype(data.get("dtype", "float32"))
        return gym.spaces.Box(low.reshape(shape).astype(dtype), high.reshape(shape).astype(dtype),
                              shape, dtype)  # fmt: skip
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise PgradError(f"malformed {data.get('type')} space description: {exc}") from None
