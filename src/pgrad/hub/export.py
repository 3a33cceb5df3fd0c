"""``pgrad export``: a trained run as a Hub-ready folder.

The folder holds ``policy.safetensors`` and ``policy.json`` (the checkpoint pair, copied byte for
byte), ``config.json`` (the training config), ``results.json`` (a fresh evaluation),
``replay.mp4`` (recorded episodes) and ``README.md`` (the model card). It is written under a
temporary name beside ``out`` and renamed when complete, so ``out`` is either absent or whole.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from pgrad.api import evaluate, load_policy, record
from pgrad.errors import PgradError
from pgrad.hub.card import model_card, results
from pgrad.hub.download import check_repo_id, download, is_hub_path
from pgrad.trainer.checkpoint import EXPORTED, resolve_checkpoint
from pgrad.trainer.files import atomic_write_text, dumps_strict, read_json

VIDEO = "replay.mp4"


def export(path: str | Path, out: str | Path, *, repo_id: str | None = None,
           episodes: int = 100, seed: int = 0, deterministic: bool = False,
           video_episodes: int = 1, fps: int = 30,
           trust_env_module: bool = False) -> Path:  # fmt: skip
    """Write the Hub-ready folder ``out`` for the run directory, checkpoint or ``hf://`` model
    ``path``; ``repo_id`` (``USER/NAME``) names it in the card. Returns ``out``.

    Raises:
        PgradError: a bad path or setting, ``out`` existing and not empty, an untrusted
            environment module, or an environment that cannot render (``video_episodes=0``
            exports without a video); ``out`` is left as it was.
    """
    out = Path(out)
    check_out(out)
    if repo_id is not None:
        check_repo_id(repo_id)
    if not isinstance(video_episodes, int) or not 0 <= video_episodes <= 1000:
        raise PgradError(f"video_episodes must be an integer in [0, 1000] (got {video_episodes!r})")
    local = download(path) if is_hub_path(path) else Path(path)
    policy = load_policy(local)
    config = policy.metadata.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("algo"), str):
        raise PgradError(f"{path} has no training config in its metadata; export a run "
                         "directory or a checkpoint written by `pgrad train`")  # fmt: skip
    evaluation = evaluate(policy, episodes=episodes, deterministic=deterministic, seed=seed,
                          trust_env_module=trust_env_module)  # fmt: skip
    result = results(policy.env_id, config["algo"], evaluation, deterministic=deterministic,
                     seed=seed)  # fmt: skip
    partial = out.parent / f".{out.name}.partial-{os.getpid()}"
    try:
        partial.mkdir(parents=True)
        weights = resolve_checkpoint(local)
        shutil.copyfile(weights, partial / f"{EXPORTED}.safetensors")
        shutil.copyfile(weights.with_suffix(".json"), partial / f"{EXPORTED}.json")
        atomic_write_text(partial / "config.json", dumps_strict(config, indent=2) + "\n")
        atomic_write_text(partial / "results.json", dumps_strict(result, indent=2) + "\n")
        if video_episodes:
            _video(policy, partial / VIDEO, video_episodes, seed, deterministic, fps,
                   trust_env_module)  # fmt: skip
        card = model_card(result, config, run_summary(local), repo_id, video=video_episodes > 0)
        atomic_write_text(partial / "README.md", card)
        if out.exists():
            out.rmdir()  # empty, checked above
        partial.rename(out)
    except OSError as exc:
        raise PgradError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return out


def check_out(out: Path) -> None:
    """``out`` must be new, or an empty folder: nothing already there is overwritten."""
    if out.is_dir() and not any(out.iterdir()):
        return
    if out.exists() or out.is_symlink():
        raise PgradError(f"--out {out} already exists and is not an empty folder; give a new one "
                         "(nothing there is overwritten)")  # fmt: skip


def _video(policy: Any, path: Path, episodes: int, seed: int, deterministic: bool, fps: int,
           trust: bool) -> None:  # fmt: skip
    try:
        record(policy, path, episodes=episodes, deterministic=deterministic, seed=seed, fps=fps,
               trust_env_module=trust)  # fmt: skip
    except PgradError as exc:
        raise PgradError(f"{exc} (or export without a video: --video-episodes 0)") from None


def run_summary(local: Path) -> dict[str, Any] | None:
    """The ``summary.json`` of a run directory (None for a bare checkpoint or unreadable one)."""
    summary = local / "summary.json"
    if not (local.is_dir() and summary.is_file()):
        return None
    try:
        data = read_json(summary, "run summary")
    except PgradError:
        return None
    return data if isinstance(data, dict) else None
