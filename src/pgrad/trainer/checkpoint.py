"""Policy checkpoints: safetensors weights plus JSON metadata, never pickle.

A checkpoint named ``final`` is the pair ``final.safetensors`` (tensors) and ``final.json``
(``{"format": "pgrad-policy", "version": 2, "policy": PolicySpec, ...}``). Run directories keep
theirs in ``checkpoints/``; a folder exported for the Hub (``pgrad export``) holds one pair named
``policy``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from pgrad.config import LIMITS, MAX_LAYERS
from pgrad.errors import PgradError
from pgrad.policies.mlp import MLPPolicy, PolicySpec
from pgrad.trainer.files import atomic_write, atomic_write_text, dumps_strict, read_json

FORMAT = "pgrad-policy"
VERSION = 2
CHECKPOINT_DIR = "checkpoints"
EXPORTED = "policy"
"""The name of the checkpoint pair in an exported folder (``policy.safetensors``, ``.json``)."""
MAX_METADATA_BYTES = 16 * 1024 * 1024
"""Largest checkpoint metadata file read."""
MAX_OBS_DIM = 10**7
"""Largest observation size a checkpoint may describe (hidden widths: ``LIMITS``)."""


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
    """Map a run directory, an exported folder, a ``.safetensors``/``.json`` file or a stem to
    the weights path."""
    if path.is_dir():
        for candidate in (path / CHECKPOINT_DIR / "final.safetensors",
                          path / f"{EXPORTED}.safetensors"):  # fmt: skip
            if candidate.is_file():
                return candidate
        raise PgradError(
            f"{path} is not a pgrad run directory (no {CHECKPOINT_DIR}/final.safetensors) nor an "
            f"exported folder (no {EXPORTED}.safetensors); give a run directory written by "
            "`pgrad train`, a folder written by `pgrad export` or a .safetensors checkpoint"
        )
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

    Nothing in the files is executed: the metadata is JSON read with size and depth limits, the
    architecture it describes is checked against the shapes stored in the safetensors header
    before any weight is allocated, and weights that are not finite are refused.

    Args:
        path: a run directory (its final checkpoint), a ``.safetensors`` or ``.json`` file of a
            checkpoint, or the path without suffix.

    Raises:
        PgradError: the path is missing or is not a readable pgrad checkpoint.
    """
    weights = resolve_checkpoint(Path(path))
    header = _header(weights)
    try:
        spec = PolicySpec.from_json(header["policy"])
        check_spec(spec)
        with torch.device("meta"):  # shapes only: nothing is allocated
            expected = {k: tuple(v.shape) for k, v in MLPPolicy(spec).state_dict().items()}
        with safe_open(str(weights), "pt") as f:
            stored = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118
        if stored != expected:
            wrong = sorted(set(stored.items()) ^ set(expected.items()))[:3]
            raise ValueError(f"weights {wrong} differ from the architecture in the metadata")
        policy = MLPPolicy(spec)
        policy.load_state_dict(load_file(str(weights)))
    except (SafetensorError, OSError) as exc:
        raise PgradError(f"{weights} is not a readable safetensors file: {exc}") from None
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        msg = " ".join(str(exc).split())[:200]
        raise PgradError(f"{weights} does not match its metadata: {msg}") from None
    if not all(bool(torch.isfinite(t).all()) for t in policy.state_dict().values()):
        raise PgradError(f"{weights} holds weights that are NaN or infinite; it cannot act")
    policy.eval()
    return policy, header


def _header(weights: Path) -> dict[str, Any]:
    header_path = weights.with_suffix(".json")
    if not header_path.exists():
        raise PgradError(f"{weights} has no metadata file {header_path.name} beside it")
    header = read_json(header_path, "checkpoint metadata", limit=MAX_METADATA_BYTES)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise PgradError(f"{header_path} is not pgrad checkpoint metadata (format != {FORMAT!r})")
    if header.get("version") != VERSION:
        raise PgradError(
            f"{header_path} has checkpoint version {str(header.get('version'))[:20]}; "
            f"this pgrad reads version {VERSION}"
        )
    return header


def check_spec(spec: PolicySpec) -> None:
    """Refuse an architecture outside pgrad's own limits (before anything is built)."""
    obs_dim, widths = spec.env.obs_dim, spec.hidden_sizes
    if not (isinstance(obs_dim, int) and 1 <= obs_dim <= MAX_OBS_DIM):
        raise ValueError(f"obs_dim {obs_dim} outside [1, {MAX_OBS_DIM}]")
    if not all(isinstance(w, int) and 1 <= w <= LIMITS["hidden_sizes"] for w in widths):
        raise ValueError(f"hidden sizes {widths[:20]} outside [1, {LIMITS['hidden_sizes']}]")
    if len(spec.hidden_sizes) > MAX_LAYERS or spec.activation not in ("tanh", "relu"):
        raise ValueError(f"hidden layers {len(spec.hidden_sizes)}, activation {spec.activation!r}")
    if spec.value not in ("none", "separate", "shared"):
        raise ValueError(f"value {spec.value!r}")


