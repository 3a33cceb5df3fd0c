"""Crash-safe file writes and guarded reads.

Every file a later step reads is written to a temporary name in the same directory, flushed to
disk (``fsync``), then renamed into place, and the directory itself is synced: after a crash at
any moment the file holds its old content or its new one, never a part. A full or read-only disk
becomes a one-line :class:`pgrad.errors.PgradError` and leaves the previous file intact.

Reads open regular files only (a FIFO or a directory where a file should be is refused rather
than waited on), and JSON is read with a size limit and a nesting limit.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pgrad.errors import PgradError

MAX_JSON_BYTES = 64 * 1024 * 1024
"""Largest JSON file pgrad reads (a run's state with a long metrics history stays far below)."""

MAX_JSON_DEPTH = 64
"""Deepest nesting of JSON pgrad reads."""


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry (a rename into it) to disk, where the platform allows."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` through ``write(tmp)`` on a temporary sibling, fsync, rename, sync the dir.

    Raises:
        PgradError: the disk is full or read-only, or the directory cannot be written.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise PgradError(f"cannot write {path}: {exc.strerror or exc}") from None
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write` for text."""
    atomic_write(path, lambda tmp: tmp.write_text(text))


def dumps_strict(data: Any, indent: int | None = None) -> str:
    """JSON that strict parsers accept: NaN and infinities become ``null``."""
    return json.dumps(_finite(data), indent=indent, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def encode_floats(value: Any) -> Any:
    """Non-finite floats as ``{"__float__": "nan"}`` (for state that must round-trip exactly)."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if isinstance(value, dict):
        return {k: encode_floats(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode_floats(v) for v in value]
    return value


def _decode_float(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "__float__" in obj and obj["__float__"] in ("nan", "inf", "-inf"):
        return float(obj["__float__"])
    return obj


def check_regular_file(path: Path, what: str) -> None:
    """Raise a :class:`PgradError` unless ``path`` is an existing regular file."""
    try:
        mode = path.stat().st_mode
    except OSError:
        raise PgradError(f"{what} {path} does not exist") from None
    if not stat.S_ISREG(mode):
        raise PgradError(f"{what} {path} is not a regular file")


def read_json(path: Path, what: str, limit: int = MAX_JSON_BYTES) -> Any:
    """Parse a JSON file with size and depth limits (``{"__float__": ...}`` decoded).

    Raises:
        PgradError: missing, not a regular file, too large, too deep, or not valid JSON.
    """
    check_regular_file(path, what)
    if path.stat().st_size > limit:
        raise PgradError(f"{what} {path} is larger than {limit:,} bytes")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise PgradError(f"cannot read {what} {path}: {exc}") from None
    if _depth(text) > MAX_JSON_DEPTH:
        raise PgradError(f"{what} {path} is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, object_hook=_decode_float)
    except (ValueError, RecursionError) as exc:
        raise PgradError(f"{what} {path} is not valid JSON: {exc}") from None


def _depth(text: str) -> int:
    """Nesting depth of brackets outside strings (a cheap guard before parsing)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest
