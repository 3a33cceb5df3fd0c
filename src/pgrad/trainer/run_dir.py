"""Run directories: where one training run writes everything, never over an earlier run."""

from __future__ import annotations

import re
import time
from pathlib import Path

from pgrad.errors import PgradError


def default_run_dir(env_id: str, algo: str, seed: int, root: Path = Path("runs")) -> Path:
    """``runs/<env>__<algo>__<seed>__<timestamp>``, with a suffix if that name is taken."""
    safe_env = re.sub(r"[^A-Za-z0-9_.-]+", "_", env_id)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = root / f"{safe_env}__{algo}__{seed}__{stamp}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


def check_run_dir(path: Path) -> None:
    """Refuse a run directory that already holds files, so no earlier output is overwritten."""
    try:
        taken = path.exists() and (not path.is_dir() or any(path.iterdir()))
    except OSError as exc:
        raise PgradError(f"cannot use run directory {path}: {exc.strerror}") from None
    if taken:
        raise PgradError(
            f"run directory {path} already exists and is not empty; choose another --run-dir "
            "or leave it unset for a new timestamped one"
        )


def create_run_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) after :func:`check_run_dir`; return it."""
    check_run_dir(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PgradError(f"cannot create run directory {path}: {exc.strerror}") from exc
    return path
