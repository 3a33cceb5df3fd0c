"""Nothing runs from a file: malformed, truncated and hostile checkpoints are refused cleanly.

Every case goes through the CLI (``pgrad eval``, ``pgrad train --resume``) and the API
(``pgrad.load_policy``): one line and exit 2, or a ``PgradError``; never a traceback, never a
hang, never an allocation decided by metadata, and never code from the file executed.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

import pgrad
from pgrad.cli import main

MARKER = "pgrad-pickle-ran"


class Payload:
    """Unpickling this writes the marker file: proof that code from a file ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("good") / "run"
    assert main(["train", "--total-env-steps", "300", "--episodes-per-update", "2", "--num-envs",
                 "2", "--eval-episodes", "2", "--no-progress", "--no-tensorboard", "--run-dir",
                 str(run)]) == 0  # fmt: skip
    return run


def _copy(run: Path, tmp: Path) -> Path:
    import shutil

    out = tmp / "run"
    shutil.copytree(run, out)
    return out


def _meta(edit: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = run / "checkpoints" / "final.json"
        header = json.loads(path.read_text())
        edit(header)
        path.write_text(json.dumps(header))

    return damage


def _set(keys: tuple[str, ...], value: object) -> Callable[[dict], None]:
    def edit(header: dict) -> None:
        node = header
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return edit


def _pickle_as(name: str) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        marker = run.parent / MARKER
        (run / "checkpoints" / name).write_bytes(pickle.dumps(Payload(str(marker))))

    return damage


def _cut(fraction: float) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        path = run / "checkpoints" / "final.safetensors"
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])

    return damage


def _huge_header(run: Path) -> None:
    """A safetensors header that claims a 10^12-element tensor in a file of a few bytes."""
    header = json.dumps({"net.0.weight": {"dtype": "F32", "shape": [1000000, 1000000],
                                          "data_offsets": [0, 4 * 10**12]}}).encode()  # fmt: skip
    (run / "checkpoints" / "final.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)


def _fifo(run: Path) -> None:
    path = run / "checkpoints" / "final.json"
    path.unlink()
    os.mkfifo(path)


def _directory(run: Path) -> None:
    path = run / "checkpoints" / "final.json"
    path.unlink()
    path.mkdir()


def _huge_int(run: Path) -> None:
    path = run / "checkpoints" / "final.json"
    header = json.loads(path.read_text())
    header["policy"]["env"]["obs_dim"] = 12345
    path.write_text(json.dumps(header).replace("12345", "9" * 5000))


def _nan_weights(run: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    path = run / "checkpoints" / "final.safetensors"
    tensors = {k: torch.full_like(v, float("nan")) for k, v in load_file(str(path)).items()}
    save_file(tensors, str(path))


DAMAGES: dict[str, Callable[[Path], None]] = {
    "pickle-as-safetensors": _pickle_as("final.safetensors"),
    "pickle-as-json": _pickle_as("final.json"),
    "truncated-10": _cut(0.1),
    "truncated-50": _cut(0.5),
    "truncated-99": _cut(0.99),
    "huge-tensor-header": _huge_header,
    "nested-json": lambda run: (run / "checkpoints" / "final.json").write_text("[" * 100_000),
    "fifo-metadata": _fifo,
    "directory-metadata": _directory,
    "nan-weights": _nan_weights,
    "config-null": _meta(_set(("config",), None)),
    "config-env-int": _meta(_set(("config", "env", "id"), 7)),
    "other-env": _meta(_set(("config", "env", "id"), "Acrobot-v1")),
    "env-id-int": _meta(_set(("policy", "env", "env_id"), 3)),
    "huge-int": lambda run: _huge_int(run),
    "wide-layers": _meta(_set(("policy", "hidden_sizes"), [8000, 8000])),
    "too-wide": _meta(_set(("policy", "hidden_sizes"), [10**9])),
    "negative-steps": _meta(_set(("config", "env", "max_episode_steps"), -1)),
    "bad-space": _meta(_set(("policy", "env", "action_space"), {"type": "Discrete", "n": -2})),
    "module-env": _meta(_set(("config", "env", "id"), "os:CartPole-v1")),
    "version": _meta(_set(("version",), 99)),
    "format": _meta(_set(("format",), "pickle")),
}


@pytest.mark.parametrize("name", sorted(DAMAGES))
def test_a_damaged_checkpoint_is_refused_in_one_line(
    name: str, good_run: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a load path unpickled")

    monkeypatch.setattr(torch, "load", never)
    monkeypatch.setattr(pickle, "load", never)
    monkeypatch.setattr(pickle, "loads", never)
    run = _copy(good_run, tmp_path)
    DAMAGES[name](run)
    before = sorted(p.name for p in run.rglob("*"))
    status = main(["eval", str(run), "--episodes", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and err[0].startswith("error: "), err
    with pytest.raises(pgrad.PgradError):
        policy = pgrad.load_policy(run)
        pgrad.evaluate(policy, episodes=2)
    assert not (tmp_path / MARKER).exists()  # nothing from the file ran
    assert sorted(p.name for p in run.rglob("*")) == before  # and nothing was written


def test_loading_allocates_nothing_the_metadata_alone_asks_for(good_run: Path, tmp_path) -> None:
    run = _copy(good_run, tmp_path)
    _meta(_set(("policy", "hidden_sizes"), [4000, 4000, 4000]))(run)
    import time

    start = time.perf_counter()
    with pytest.raises(pgrad.PgradError, match="differ from the architecture"):
        pgrad.load_policy(run)
    assert time.perf_counter() - start < 5  # shapes were compared before building the network


@pytest.mark.parametrize(
    "damage",
    [lambda s: s.write_text("{" * 100), lambda s: s.write_bytes(pickle.dumps(Payload("x"))),
     lambda s: s.write_text("[]")],
    ids=["truncated-json", "pickle", "wrong-type"],
)  # fmt: skip
def test_a_damaged_run_state_is_not_resumed_from(
    damage: Callable[[Path], None], good_run: Path, tmp_path: Path, capsys
) -> None:
    run = _copy(good_run, tmp_path)
    (run / "summary.json").unlink()
    for state in (run / "checkpoints").glob("state-*"):
        damage(state / "state.json")
    status = main(["train", "--resume", str(run), "--no-progress"])
    # Altered checkpoints no longer match their manifests: they are skipped, and the run starts
    # again from the beginning in place, never from the altered data.
    assert status == 0
    assert json.loads((run / "summary.json").read_text())["updates"] >= 1
    capsys.readouterr()
