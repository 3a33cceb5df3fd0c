"""Finite MDPs from names or files (.npz, .json), validated like the constructor."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from pgrad.envs.finite import NAMED_MDPS, FiniteMDP, named_mdp

FIELDS = ("initial", "transitions", "rewards", "horizon")
"""Keys a file must hold; ``discount`` is optional (default 1)."""


def load_mdp(spec: str) -> tuple[FiniteMDP, str]:
    """A shipped MDP by name, or one read from a ``.npz``/``.json`` file; returns (mdp, label).

    A file holds arrays ``initial`` [S], ``transitions`` [S, A, S], ``rewards`` [S, A] and the
    numbers ``horizon`` and, optionally, ``discount``.

    Raises:
        ValueError: unknown name, unreadable file, missing key, or an invalid MDP (the message
            names the file and the argument).
    """
    if spec in NAMED_MDPS:
        return named_mdp(spec), spec
    path = Path(spec)
    if path.suffix not in (".npz", ".json"):
        raise ValueError(
            f"mdp: {spec!r} is neither a shipped MDP ({', '.join(NAMED_MDPS)}) "
            "nor a .npz/.json file"
        )
    if not path.is_file():
        raise ValueError(f"mdp: file {spec} does not exist")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                fields = {k: data[k] for k in data.files}
        else:
            fields = json.loads(path.read_text())
            if not isinstance(fields, dict):
                raise ValueError("the top level must be an object")
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"mdp: cannot read {spec}: {exc}") from exc
    missing = [k for k in FIELDS if k not in fields]
    if missing:
        raise ValueError(f"mdp: {spec} lacks {', '.join(missing)} (needs {', '.join(FIELDS)})")
    horizon = np.asarray(fields["horizon"])
    if horizon.shape != () or not float(horizon).is_integer():
        raise ValueError(f"mdp: {spec}: horizon must be one integer, got {fields['horizon']!r}")
    try:
        mdp = FiniteMDP(
            initial=fields["initial"],
            transitions=fields["transitions"],
            rewards=fields["rewards"],
            horizon=int(horizon),
            discount=float(np.asarray(fields.get("discount", 1.0))),
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"mdp: {spec}: {exc}") from exc
    return mdp, path.name


def save_mdp(mdp: FiniteMDP, path: Path) -> None:
    """Write ``mdp`` as .npz or .json (by suffix), readable by :func:`load_mdp`."""
    arrays = mdp.to_arrays()
    if path.suffix == ".npz":
        np.savez(path, **arrays)
    elif path.suffix == ".json":
        path.write_text(json.dumps({k: v.tolist() for k, v in arrays.items()}))
    else:
        raise ValueError(f"path: use a .npz or .json suffix, got {path.name}")
