"""Resumable checkpoints of a whole run: written complete or not at all, read back exactly.

A checkpoint is a directory ``checkpoints/state-UUUUUUUU/`` (U: the update it follows) holding
``tensors.safetensors`` (policy, optimiser moments, best policy, the torch generator),
``state.json`` (every other part of :meth:`pgrad.trainer.state.TrainState.state_dict`: counters,
clocks, random streams, environment snapshots, the metrics history) and, written last,
``MANIFEST.json`` with each file's size and SHA-256. It is assembled under a temporary name,
every file and the directory flushed to disk, then renamed into place: a directory named
``state-*`` with a manifest that matches its files is complete; anything else is ignored (and a
leftover temporary directory is removed). Nothing is unpickled; no module is imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from pgrad.errors import PgradError
from pgrad.trainer.files import atomic_write_text, encode_floats, fsync_dir, read_json

PREFIX = "state-"
FORMAT = "pgrad-run-state"
VERSION = 1
FILES = ("tensors.safetensors", "state.json")


def save_run_state(
    checkpoints: Path, name: str, tensors: dict[str, torch.Tensor], data: dict[str, Any], keep: int
) -> Path:
    """Write a complete checkpoint ``checkpoints/state-<name>``; keep the newest ``keep``.

    Raises:
        PgradError: the disk is full or read-only; the previous checkpoints are left intact.
    """
    final = checkpoints / f"{PREFIX}{name}"
    tmp = checkpoints / f".{PREFIX}{name}.tmp"
    try:
        checkpoints.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        save_file({k: v.detach().contiguous().clone() for k, v in tensors.items()},
                  str(tmp / FILES[0]))  # fmt: skip
        (tmp / FILES[1]).write_text(json.dumps(encode_floats(data), allow_nan=False))
        for file in FILES:
            _fsync(tmp / file)
        manifest = {"format": FORMAT, "version": VERSION,
                    "files": {f: _digest(tmp / f) for f in FILES}}  # fmt: skip
        atomic_write_text(tmp / "MANIFEST.json", json.dumps(manifest, indent=2))
        fsync_dir(tmp)
        if final.exists():  # the same update checkpointed twice: replace it whole
            shutil.rmtree(final)
        os.replace(tmp, final)
        fsync_dir(checkpoints)
    except (OSError, SafetensorError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise PgradError(f"cannot write checkpoint {final}: {getattr(exc, 'strerror', None) or exc}"
                         "; the previous checkpoints are intact") from None  # fmt: skip
    for old in complete_checkpoints(checkpoints)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def complete_checkpoints(checkpoints: Path) -> list[Path]:
    """Complete checkpoints, oldest first (by the update they follow)."""
    if not checkpoints.is_dir():
        return []
    found = [p for p in checkpoints.iterdir() if p.name.startswith(PREFIX) and p.is_dir()]
    return sorted((p for p in found if _complete(p)), key=lambda p: p.name)


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of a run directory; None if it was stopped before its first
    one (the run then starts again from the beginning, in the same directory).

    Raises:
        PgradError: not a run directory.
    """
    if not (run_dir / "config.json").is_file():
        raise PgradError(f"{run_dir} is not a pgrad run directory (no config.json); give the "
                         "directory `pgrad train` wrote")  # fmt: skip
    found = complete_checkpoints(run_dir / "checkpoints")
    return found[-1] if found else None


def load_run_state(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The (tensors, data) of a complete checkpoint, its files checked against its manifest.

    Raises:
        PgradError: missing, altered or unreadable files.
    """
    if not _complete(path):
        raise PgradError(f"checkpoint {path} is incomplete or altered (its files do not match "
                         "MANIFEST.json)")  # fmt: skip
    try:
        tensors = load_file(str(path / FILES[0]))
    except (SafetensorError, OSError) as exc:
        raise PgradError(f"checkpoint {path} has unreadable tensors: {exc}") from None
    data = read_json(path / FILES[1], "checkpoint state")
    if not isinstance(data, dict):
        raise PgradError(f"checkpoint {path}: state.json is not an object")
    return tensors, data


def _complete(path: Path) -> bool:
    try:
        manifest = json.loads((path / "MANIFEST.json").read_text())
        files = manifest["files"]
        return manifest.get("format") == FORMAT and all(
            _digest(path / f) == files[f] for f in FILES
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _digest(path: Path) -> dict[str, Any]:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return {"bytes": path.stat().st_size, "sha256": h.hexdigest()}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
