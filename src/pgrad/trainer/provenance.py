"""Versions of everything a run's numbers depend on, recorded in ``summary.json``."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("pgrad", "torch", "gymnasium", "numpy")


def versions() -> dict[str, str | None]:
    """Python's and each package's version, and the git commit of pgrad's source if it has one."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["git_commit"] = git_commit(Path(__file__).resolve().parent)
    return out


def git_commit(directory: Path) -> str | None:
    """The commit checked out in ``directory``'s repository (None outside one or without git)."""
    try:
        proc = subprocess.run(["git", "-C", str(directory), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=5, check=False)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    commit = proc.stdout.strip()
    return commit if proc.returncode == 0 and len(commit) == 40 else None
