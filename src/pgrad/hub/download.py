"""``hf://USER/NAME[@REVISION]`` paths: the checkpoint pair of a Hub repository, downloaded into
the Hub's local cache (``HF_HUB_CACHE``, by default ``~/.cache/huggingface/hub``).

Only the checkpoint's two files are fetched (weights as safetensors, metadata as JSON): nothing
that could be executed is downloaded, and the cached copy is used when the Hub cannot be reached.
"""

from __future__ import annotations

import re
from pathlib import Path

from pgrad.errors import PgradError

SCHEME = "hf://"
REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
"""A Hub model repository id: ``USER/NAME`` (or ``ORG/NAME``)."""
FILES = ("policy.safetensors", "policy.json")
"""What a pgrad model repository must hold to be loaded (``pgrad export`` writes them)."""


def is_hub_path(path: object) -> bool:
    """Whether ``path`` names a Hub repository (``hf://...``)."""
    return isinstance(path, str) and path.startswith(SCHEME)


def parse(path: str) -> tuple[str, str | None]:
    """The repository id and revision (None: the default branch) of ``hf://USER/NAME[@REV]``."""
    repo_id, _, revision = path[len(SCHEME) :].partition("@")
    check_repo_id(repo_id, f"{path}: ")
    if "@" in path and not revision:
        raise PgradError(f"{path}: no revision after @; e.g. hf://{repo_id}@main")
    return repo_id, revision or None


def check_repo_id(repo_id: str, where: str = "") -> None:
    """Refuse anything but ``USER/NAME``."""
    if not REPO_ID.fullmatch(repo_id) or ".." in repo_id or repo_id.endswith((".git", ".")):
        raise PgradError(f"{where}a Hub repository id is USER/NAME (letters, digits, '-', '_', "
                         f"'.'), e.g. hf://sb3/ppo-CartPole-v1 (got {repo_id!r})")  # fmt: skip


def download(path: str) -> Path:
    """The local folder (in the Hub's cache) holding the checkpoint of ``hf://USER/NAME[@REV]``.

    Raises:
        PgradError: huggingface_hub missing, a bad id, a repository that does not exist (or is
            private without a login), or no network and no cached copy.
    """
    repo_id, revision = parse(path)
    try:
        import huggingface_hub
        from huggingface_hub import errors
    except ImportError:
        raise PgradError(f'loading {path} needs huggingface_hub: pip install -e ".[hub]"') from None
    from pgrad import __version__

    try:
        folder = huggingface_hub.snapshot_download(
            repo_id, revision=revision, allow_patterns=list(FILES), library_name="pgrad",
            library_version=__version__,
        )  # fmt: skip
    except errors.RepositoryNotFoundError:
        raise PgradError(f"{path}: no such model repository on the Hub (a private one needs "
                         "`hf auth login` or HF_TOKEN)") from None  # fmt: skip
    except errors.RevisionNotFoundError:
        raise PgradError(f"{path}: the repository has no revision {revision!r}") from None
    except errors.LocalEntryNotFoundError:
        raise PgradError(f"{path}: the Hub cannot be reached and the repository is not in the "
                         "local cache; connect and retry") from None  # fmt: skip
    except (errors.HfHubHTTPError, errors.HFValidationError, OSError, ValueError) as exc:
        raise PgradError(f"{path}: {_first_line(exc)}") from None
    missing = [name for name in FILES if not (Path(folder) / name).is_file()]
    if missing:
        raise PgradError(f"{path} holds no pgrad policy (no {', '.join(missing)}); pgrad loads "
                         "repositories written by `pgrad push`")  # fmt: skip
    return Path(folder)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
