"""Policy checkpoints: safetensors weights plus JSON metadata, never pickle.

A checkpoint named ``final`` is the pair ``final.safetensors`` (tensors) and ``final.json``
(``{"format": "pgrad-policy", "version": 1, "policy": PolicySpec, ...}``). Run directories keep
theirs in ``checkpoints/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from pgrad.errors import PgradError
from pgrad.policies.mlp import MLPPolicy, PolicySpec
from pgrad.trainer.files import atomic_write, atomic_write_text, dumps_strict

FORMAT = "pgrad-policy"
VERSION = 2
CHECKPOINT_DIR = "checkpoints"


def save_policy(directory: Path, name: str, policy: MLPPolicy, **meta: Any) -> Path:
    """Write ``directory/name.safetensors`` and ``directory/name.json``; return the weights path.

    Each file is written to a temporary name and renamed, so a reader never sees half a file.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PgradError(f"cannot create {directory}: {exc.strerror or exc}") from None
    weights = directory / f"{name}.safetensors"
    tensors = {k: v.detach().contiguous() for k, v in policy.state_dict().items()}
    atomic_write(weights, lambda tmp: save_file(tensors, str(tmp)))
    header = {"format": FORMAT, "version": VERSION, "policy": policy.spec.to_json(), **meta}
    atomic_write_text(directory / f"{name}.json", dumps_strict(header, indent=2))
    return weights


def resolve_checkpoint(path: Path) -> Path:
    """Map a run directory, a ``.safetensors``/``.json`` file or a stem to the weights path."""
    if path.is_dir():
        candidate = path / CHECKPOINT_DIR / "final.safetensors"
        if not candidate.is_file():
            raise PgradError(
                f"{path} is not a pgrad run directory (no {CHECKPOINT_DIR}/final.safetensors); "
                "give a run directory written by `pgrad train` or a .safetensors checkpoint"
            )
        return candidate
    if path.is_file() and path.suffix not in (".safetensors", ".json"):
        raise PgradError(
            f"{path} is not a pgrad checkpoint; give a run directory or a .safetensors file "
            "written by `pgrad train`"
        )
    weights = path.with_suffix(".safetensors") if path.suffix in ("", ".json") else path
    if not weights.is_file():
        raise PgradError(
            f"{path} does not exist; give a run directory or a .safetensors checkpoint "
            "written by `pgrad train`"
        )
    return weights


def load_policy(path: str | Path) -> tuple[MLPPolicy, dict[str, Any]]:
    """Load a policy saved by :func:`save_policy`; return it (in eval mode) and its metadata.

    Args:
        path: a run directory (its final checkpoint), a ``.safetensors`` or ``.json`` file of a
            checkpoint, or the path without suffix.

    Raises:
        PgradError: the path is missing or is not a readable pgrad checkpoint.
    """
    weights = resolve_checkpoint(Path(path))
    header_path = weights.with_suffix(".json")
    try:
        header = json.loads(header_path.read_text())
    except FileNotFoundError as exc:
        raise PgradError(f"{weights} has no metadata file {header_path.name} beside it") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PgradError(f"{header_path} is not valid JSON: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise PgradError(f"{header_path} is not pgrad checkpoint metadata (format != {FORMAT!r})")
    if header.get("version") != VERSION:
        raise PgradError(
            f"{header_path} has checkpoint version {header.get('version')}; "
            f"this pgrad reads version {VERSION}"
        )
    try:
        policy = MLPPolicy(PolicySpec.from_json(header["policy"]))
        state = load_file(str(weights))
        policy.load_state_dict(state)
    except (SafetensorError, OSError) as exc:
        raise PgradError(f"{weights} is not a readable safetensors file: {exc}") from exc
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        msg = " ".join(str(exc).split())[:200]
        raise PgradError(f"{weights} does not match its metadata: {msg}") from exc
    policy.eval()
    return policy, header

