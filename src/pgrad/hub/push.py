"""``pgrad push``: upload an exported folder (or a run, exported on the way) to the Hub with
huggingface_hub. The login is huggingface_hub's own (``hf auth login`` or ``HF_TOKEN``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from pgrad.api import load_policy
from pgrad.errors import PgradError
from pgrad.hub.download import check_repo_id, is_hub_path
from pgrad.hub.export import export
from pgrad.trainer.checkpoint import EXPORTED


def is_exported(path: Path) -> bool:
    """Whether ``path`` is a folder written by ``pgrad export``."""
    names = (f"{EXPORTED}.safetensors", "README.md", "results.json")
    return path.is_dir() and all((path / name).is_file() for name in names)


def push(path: str | Path, repo_id: str, *, private: bool = False,
         commit_message: str | None = None, **export_settings: Any) -> str:  # fmt: skip
    """Upload ``path`` (an exported folder, or a run directory or checkpoint exported first with
    ``export_settings``) to the model repository ``repo_id``, created if needed; return the
    commit's address.

    Raises:
        PgradError: a bad id or path, huggingface_hub missing, no login, or the Hub refusing.
    """
    check_repo_id(repo_id)
    if is_hub_path(path):
        raise PgradError(f"push takes a local run or exported folder (got {path})")
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise PgradError('pgrad push needs huggingface_hub: pip install -e ".[hub]"') from None
    local = Path(path)
    if is_exported(local):
        policy = load_policy(local)  # refuse a broken folder before anything is uploaded
        return _upload(HfApi(), local, repo_id, private, commit_message or _message(policy))
    with tempfile.TemporaryDirectory(prefix="pgrad-push-") as tmp:
        folder = export(local, Path(tmp) / "export", repo_id=repo_id, **export_settings)
        message = commit_message or _message(load_policy(folder))
        return _upload(HfApi(), folder, repo_id, private, message)


def _message(policy: Any) -> str:
    return f"pgrad: {policy.metadata['config']['algo']} on {policy.env_id}"


def _upload(api: Any, folder: Path, repo_id: str, private: bool, message: str) -> str:
    """Create the repository if needed and commit the folder's files to it."""
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        info = api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message=message)
    except Exception as exc:  # network and Hub errors, of huggingface_hub's and httpx's types
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status == 401:
            raise PgradError("the Hub refused the upload: not logged in (run `hf auth login` or "
                             "set HF_TOKEN with a write token)") from None  # fmt: skip
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        raise PgradError(f"uploading to {repo_id} failed: {lines[0][:300]}") from None
    return str(getattr(info, "commit_url", info))
