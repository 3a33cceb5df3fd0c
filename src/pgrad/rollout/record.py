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
                    episodes: int, seed: int, emit: Callable[[np.ndarray], Any]
                    ) -> list[float]:  # fmt: skip
    """Hand each frame [H, W, 3] uint8 of ``episodes`` episodes to ``emit`` as it is rendered
    (the first frame after each reset, then one per step; no episode is held in memory); return
    the episodes' returns. Episode k is reset with seed ``seed + k``."""
    returns: list[float] = []
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k)
        reset()
        emit(frame(env))
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(act(obs))
            emit(frame(env))
            total += float(reward)
            done = bool(terminated or truncated)
        returns.append(total)
    return returns


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


def write_video(out: Path, fps: int, produce: Callable[[Callable[[np.ndarray], Any]], Any]) -> Any:
    """Stream the frames ``produce(emit)`` emits into the .mp4 ``out`` (H.264, every frame kept)
    through imageio's FFmpeg writer, atomically: a partial file never replaces ``out``. Returns
    what ``produce`` returns."""
    try:
        import imageio.v2 as imageio
        import imageio_ffmpeg  # noqa: F401  (the writer's binary)
    except ImportError as exc:
        raise PgradError(VIDEO_MISSING) from exc
    partial = out.with_name(f".{out.name}.partial{out.suffix}")
    try:
        with imageio.get_writer(partial, fps=fps, macro_block_size=1) as writer:
            result = produce(writer.append_data)
        partial.replace(out)
        return result
    finally:
        partial.unlink(missing_ok=True)
