"""A full or read-only disk: one line of error, and the previous checkpoint left intact."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from pgrad.cli import main
from pgrad.trainer import files, resume

ARGS = ["train", "--total-env-steps", "20000", "--episodes-per-update", "4", "--num-envs", "4",
        "--checkpoint-every", "500", "--target-return", "none", "--eval-episodes", "2",
        "--no-progress"]  # fmt: skip


def _one_error_line(capsys: pytest.CaptureFixture[str], words: str) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0], err


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_failing_checkpoint_write_keeps_the_previous_one(
    code: int, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = resume.save_file

    def fail_on_fourth(tensors: dict, path: str) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(code, os.strerror(code))
        real(tensors, path)

    monkeypatch.setattr(resume, "save_file", fail_on_fourth)
    run = tmp_path / "run"
    assert main([*ARGS, "--no-tensorboard", "--run-dir", str(run)]) == 2
    _one_error_line(capsys, os.strerror(code))
    kept = resume.complete_checkpoints(run / "checkpoints")
    assert len(kept) == 2 and all(resume.load_run_state(p) for p in kept)
    assert not list((run / "checkpoints").glob(".*"))  # the half-written one was removed


def test_a_failing_summary_write_leaves_no_partial_file(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = files.os.replace

    def read_only(src: str | Path, dst: str | Path) -> None:
        if Path(dst).name == "summary.json":
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        real(src, dst)

    monkeypatch.setattr(files.os, "replace", read_only)
    run = tmp_path / "run"
    assert main([*ARGS, "--total-env-steps", "400", "--no-tensorboard", "--run-dir", str(run)]) == 2
    _one_error_line(capsys, "cannot write")
    assert not (run / "summary.json").exists() and not list(run.glob(".summary*"))


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mount)],
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_real_full_disk(small_disk: Path, capsys) -> None:
    run = small_disk / "run"
    status = main([*ARGS, "--keep-checkpoints", "3", "--eval-interval", "0", "--run-dir",
                   str(run)])  # fmt: skip
    assert status == 2
    _one_error_line(capsys, "No space left on device")
    for checkpoint in resume.complete_checkpoints(run / "checkpoints"):
        resume.load_run_state(checkpoint)  # what was kept is whole
