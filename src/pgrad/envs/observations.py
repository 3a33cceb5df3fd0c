"""How observations are stored: every observation space flattened to one array per step.

A rollout keeps one array [N, obs_dim] per vector step whatever the space; the policy's
encoder (:mod:`pgrad.policies.encoders`) reads it back through the same :class:`ObsLayout`:

- Box: the values, flattened. A Box of uint8 or bool with 3 dimensions, or uint8 with 2 (both at
  least 8 wide), is an *image*: (H, W, C), or (C, H, W) where the first dimension is at most 4
  and the last is larger (a frame stack); it is stored as it is and read by a CNN.
- Discrete: one-hot of size n. MultiBinary: the bits. MultiDiscrete: one one-hot per entry.
- Dict and Tuple: their entries' parts one after another, in the space's order (nested ones
  with dotted keys).

The stored dtype is uint8 when every part is an image (four times less memory than float32 for
Atari frames), float32 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from pgrad.errors import PgradError

_SPACE_KINDS = "Box, Discrete, MultiBinary, MultiDiscrete, and Dict or Tuple of them"


@dataclass(frozen=True)
class Part:
    """One entry of an observation: columns [offset, offset + size) of the stored array.

    Attributes:
        key: the entry's name in a Dict or Tuple (dotted when nested; ``""`` at the top).
        image: whether it is an image, read by a CNN; else a vector, read by the MLP.
        offset, size: where it lies in the stored array.
        shape: the image as (C, H, W) for an image; (size,) for a vector.
        channels_last: an image stored (H, W, C) (needs a transpose to (C, H, W)).
        scale: what an image's values are multiplied by (1/255 for uint8, 1 for bool).
    """

    key: str
    image: bool
    offset: int
    size: int
    shape: tuple[int, ...]
    channels_last: bool = False
    scale: float = 1.0


@dataclass(frozen=True)
class ObsLayout:
    """The parts of a stored observation, its width and its dtype."""

    parts: tuple[Part, ...]
    dim: int
    dtype: type[np.generic]

    @property
    def has_images(self) -> bool:
        """Whether any part is an image."""
        return any(p.image for p in self.parts)

    def vector_columns(self) -> np.ndarray:
        """Indices of the vector parts' columns, int64 [vector_dim]."""
        cols = [np.arange(p.offset, p.offset + p.size) for p in self.parts if not p.image]
        return np.concatenate(cols) if cols else np.zeros(0, np.int64)


def is_image(space: gym.Space[Any]) -> bool:
    """A Box of uint8 or bool with 3 dimensions, or of uint8 with 2 that are both at least 8."""
    if not isinstance(space, gym.spaces.Box):
        return False
    if space.dtype == np.bool_ or space.dtype == np.uint8:
        if len(space.shape) == 3:
            return True
        return space.dtype == np.uint8 and len(space.shape) == 2 and min(space.shape) >= 8
    return False


def _image_part(key: str, space: gym.spaces.Box, offset: int) -> Part:
    shape = space.shape if len(space.shape) == 3 else (*space.shape, 1)
    first = shape[0] <= 4 < shape[-1]
    chw = shape if first else (shape[2], shape[0], shape[1])
    scale = 1.0 / 255.0 if space.dtype == np.uint8 else 1.0
    return Part(key, True, offset, int(np.prod(shape)), tuple(int(s) for s in chw),
                channels_last=not first, scale=scale)  # fmt: skip


def _parts(space: gym.Space[Any], key: str, offset: int) -> list[Part]:
    if isinstance(space, gym.spaces.Dict | gym.spaces.Tuple):
        items = space.spaces.items() if isinstance(space, gym.spaces.Dict) else enumerate(space)
        out: list[Part] = []
        for name, sub in items:
            out += _parts(sub, f"{key}.{name}" if key else str(name), offset + _width(out))
        return out
    if is_image(space):
        return [_image_part(key, space, offset)]  # type: ignore[arg-type]
    size = _vector_size(space)
    return [Part(key, False, offset, size, (size,))]


def _width(parts: list[Part]) -> int:
    return sum(p.size for p in parts)


def _vector_size(space: gym.Space[Any]) -> int:
    if isinstance(space, gym.spaces.Box | gym.spaces.MultiBinary):
        return int(np.prod(space.shape))
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return int(space.nvec.sum())
    raise PgradError(
        f"observation space {space} is not supported; pgrad reads {_SPACE_KINDS} observations "
        "(wrap the environment to convert it)"
    )


def observation_layout(space: gym.Space[Any]) -> ObsLayout:
    """The :class:`ObsLayout` of ``space``.

    Raises:
        PgradError: a space pgrad cannot read (Text, Graph, Sequence, ...).
    """
    parts = tuple(_parts(space, "", 0))
    if not parts:
        raise PgradError(f"observation space {space} is empty; pgrad needs some observation")
    dtype = np.uint8 if all(p.image for p in parts) else np.float32
    return ObsLayout(parts, _width(list(parts)), dtype)


def batch_flattener(space: gym.Space[Any]) -> Callable[[Any, int], np.ndarray]:
    """A function (vector observations of N copies, N) -> the stored array [N, obs_dim].

    Raises:
        PgradError: as :func:`observation_layout`.
    """
    layout = observation_layout(space)
    if isinstance(space, gym.spaces.Box):
        dtype = layout.dtype
        return lambda obs, n: np.asarray(obs, dtype).reshape(n, layout.dim)
    pieces = _flatteners(space)

    def flatten(obs: Any, n: int) -> np.ndarray:
        out = np.empty((n, layout.dim), layout.dtype)
        offset = 0
        for width, piece in pieces:
            piece(obs, out[:, offset : offset + width])
            offset += width
        return out

    return flatten


Piece = tuple[int, Callable[[Any, np.ndarray], None]]


def _flatteners(space: gym.Space[Any]) -> list[Piece]:
    """(width, write(obs, out_columns)) for each leaf of ``space``, in storage order."""
    if isinstance(space, gym.spaces.Dict | gym.spaces.Tuple):
        names = list(space.spaces) if isinstance(space, gym.spaces.Dict) else range(len(space))
        out: list[Piece] = []
        for name in names:
            for width, write in _flatteners(space[name]):
                out.append((width, _nested(name, write)))
        return out
    width = observation_layout(space).dim
    if isinstance(space, gym.spaces.Discrete):
        start = int(space.start)
        return [(width, lambda obs, dst: _one_hot(np.asarray(obs) - start, dst))]
    if isinstance(space, gym.spaces.MultiDiscrete):
        return [(width, _multi_one_hot(space.nvec.reshape(-1), space.start.reshape(-1)))]
    return [(width, lambda obs, dst: dst.__setitem__(..., np.asarray(obs).reshape(dst.shape)))]


def _nested(name: Any, write: Callable[[Any, np.ndarray], None]) -> Callable[..., None]:
    return lambda obs, dst: write(obs[name], dst)


def _one_hot(index: np.ndarray, dst: np.ndarray) -> None:
    dst[...] = 0
    dst[np.arange(dst.shape[0]), index.reshape(-1)] = 1


def _multi_one_hot(nvec: np.ndarray, start: np.ndarray) -> Callable[[Any, np.ndarray], None]:
    offsets = np.concatenate([[0], np.cumsum(nvec)[:-1]])

    def write(obs: Any, dst: np.ndarray) -> None:
        index = np.asarray(obs).reshape(dst.shape[0], -1) - start + offsets
        dst[...] = 0
        np.put_along_axis(dst, index, 1, axis=1)

    return write
