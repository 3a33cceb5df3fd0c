"""Presets: tuned settings per (algorithm, environment), shipped in ``presets.toml``.

``pgrad train ALGO --env ID`` starts from the preset of (ALGO, ID) when there is one, prints it,
and lets every flag override it (``--no-preset``: the algorithm's defaults). Each preset names
the row of ``docs/benchmarks.md`` it reproduces; ``benchmarks/learning.py`` measures those rows
with the same settings, read from the same file.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

PRESETS_FILE = Path(__file__).with_name("presets.toml")


@functools.cache
def all_presets() -> dict[str, dict[str, dict[str, Any]]]:
    """Every preset: algorithm -> environment id -> settings (with ``benchmark``)."""
    with PRESETS_FILE.open("rb") as f:
        return tomllib.load(f)


def preset(algo: str, env_id: str) -> dict[str, Any] | None:
    """The settings of (``algo``, ``env_id``) for :func:`pgrad.make_config`, without the
    ``benchmark`` note, or None when there is no preset."""
    found = all_presets().get(algo, {}).get(env_id)
    return None if found is None else {k: v for k, v in found.items() if k != "benchmark"}


def describe(algo: str, env_id: str) -> str | None:
    """One line for the start of a run: the preset's settings and the row backing it."""
    found = all_presets().get(algo, {}).get(env_id)
    if found is None:
        return None
    fields = ", ".join(f"{k}={v}" for k, v in found.items() if k != "benchmark")
    return (f"preset for {algo} on {env_id} (docs/benchmarks.md row {found['benchmark']!r}; "
            f"flags override it, --no-preset ignores it): {fields}")  # fmt: skip
