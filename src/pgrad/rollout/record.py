"""Videos of a trained policy: episodes rendered as ``rgb_array`` frames, written with imageio.

The writer is imageio's FFmpeg plugin (``pip install -e ".[video]"``: imageio and imageio-ffmpeg,
whose wheel ships its own ffmpeg binary, so nothing is needed from the system). MuJoCo renders
headless through ``MUJOCO_GL=egl`` where an EGL driver exists, else ``MUJOCO_GL=osmesa``; set it
before the run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pgrad.errors import PgradError

VIDEO_MISSING = 'recording needs imageio and imageio-ffmpeg: pip install -e ".[video]"'


def render_episodes(env: Any, act: Callable[[Any], Any], reset: Callable[[], None],
                    episodes: int, seed: int) -> tuple[list[np.ndarray], list[float]]:  # fmt: skip
    """Frames [H, W, 3] uint8 of ``episodes`` episodes (the first frame after each reset, then one
    per step) and their returns; episode k is reset with seed ``seed + k``."""
    frames: list[np.ndarray] = []
    returns: list[float] = []
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k)
        reset()
        frames.append(frame(env))
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(act(obs))
            frames.append(frame(env))
            total += float(reward)
            done = bool(terminated or truncated)
        returns.append(total)
    return frames, returns


def frame(env: Any) -> np.ndarray:
    """The environment's current ``rgb_array`` frame [H, W, 3] uint8.

    Raises:
        PgradError: it cannot render (a missing renderer such as pygame, no GL for MuJoCo).
    """
    try:
        image = env.render()
    except Exception as exc:  # someone else's renderer: say what to install or set
        detail = " ".join(str(exc).split())[:200]
        raise PgradError(f"cannot render {env.spec.id if env.spec else env}: "
                         f"{type(exc).__name__}: {detail}") from None  # fmt: skip
    if image is None or np.asarray(image).ndim != 3:
        raise PgradError(f"{env.spec.id if env.spec else env} rendered no rgb_array frame")
    return np.asarray(image, dtype=np.uint8)


def write_video(frames: list[np.ndarray], out: Path, fps: int) -> None:
    """Write ``frames`` to the .mp4 ``out`` (H.264, every frame kept) through imageio's FFmpeg
    writer, atomically: a partial file never replaces ``out``."""
    try:
        import imageio.v2 as imageio
        import imageio_ffmpeg  # noqa: F401  (the writer's binary)
    except ImportError as exc:
        raise PgradError(VIDEO_MISSING) from exc
    partial = out.with_name(f".{out.name}.partial{out.suffix}")
    try:
        imageio.mimwrite(partial, frames, fps=fps, macro_block_size=1)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
