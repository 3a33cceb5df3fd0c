"""Never lose a run: killed at any moment and resumed, it ends bit-identical to an unstopped one.

Runs are killed in a subprocess (SIGKILL at a random moment after the first checkpoint, SIGTERM,
two SIGINTs) and resumed with ``pgrad train --resume``; a crash in the middle of a checkpoint
write is simulated in-process. Each is compared with the same config trained without a stop:
final and best weights, and every metrics row but the timing columns.
"""

from __future__ import annotations

import hashlib
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pgrad
from pgrad.cli import main
from pgrad.trainer import resume as resume_module
from pgrad.trainer.logging import TIMING_COLUMNS, read_metrics

CASES = {
    "ppo": ["ppo", "--env", "CartPole-v1", "--total-env-steps", "40000", "--num-steps", "64"],
    "reinforce": ["reinforce", "--env", "CartPole-v1", "--total-env-steps", "60000",
                  "--episodes-per-update", "8", "--num-envs", "8"],
    "a2c-pendulum": ["a2c", "--env", "Pendulum-v1", "--total-env-steps", "12000"],
    # every space and the recurrent cores resume as exactly (issue 11)
    "ppo-lstm-memory": ["ppo", "--env", "pgrad/Memory-v0", "--recurrent", "lstm",
                        "--recurrent-size", "16", "--total-env-steps", "12000", "--num-steps", "32",
                        "--num-minibatches", "2"],
    "a2c-squashed-pendulum": ["a2c", "--env", "Pendulum-v1", "--action-dist", "squashed",
                              "--total-env-steps", "12000"],
    "ppo-multidiscrete": ["ppo", "--env", "pgrad/Match-v0", "--total-env-steps", "30000",
                          "--num-steps", "64"],
    "reinforce-gru-dict": ["reinforce", "--env", "pgrad/DictGoal-v0", "--recurrent", "gru",
                           "--recurrent-size", "16", "--total-env-steps", "20000"],
    # the natural-gradient family (issue 15): fixed-length rollouts and complete episodes
    "trpo": ["trpo", "--env", "CartPole-v1", "--total-env-steps", "12000", "--num-steps", "64",
             "--value-epochs", "5"],
    "npg-episodes-pendulum": ["npg", "--env", "Pendulum-v1", "--rollout", "episodes",
                              "--episodes-per-update", "4", "--num-envs", "4",
                              "--total-env-steps", "12000", "--value-epochs", "5"],
}  # fmt: skip
COMMON = ["--target-return", "none", "--checkpoint-every", "2000", "--eval-interval", "20",
          "--eval-episodes", "5", "--no-progress", "--no-tensorboard"]  # fmt: skip


def _fingerprint(run: Path) -> tuple[str, str, list[dict[str, str]]]:
    def digest(name: str) -> str:
        return hashlib.sha256((run / "checkpoints" / name).read_bytes()).hexdigest()

    rows = [{k: repr(v) for k, v in r.items() if k not in TIMING_COLUMNS}  # repr: nan == nan
            for r in read_metrics(run / "metrics.csv")]  # fmt: skip
    return digest("final.safetensors"), digest("best.safetensors"), rows


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    out = {}
    for name, args in CASES.items():
        run = tmp_path_factory.mktemp("ref") / name
        assert main(["train", *args, *COMMON, "--run-dir", str(run)]) == 0
        out[name] = _fingerprint(run)
    return out


def _start(args: list[str], run: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "pgrad.cli", "train", *args, *COMMON, "--run-dir", str(run)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_checkpoint(run: Path, proc: subprocess.Popen[bytes], count: int = 1) -> None:
    deadline = time.monotonic() + 120
    while len(list((run / "checkpoints").glob("state-*/MANIFEST.json"))) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.mark.parametrize("case", sorted(CASES))
def test_sigkill_at_a_random_moment_then_resume_is_bit_identical(
    case: str, references: dict, tmp_path: Path, capsys
) -> None:
    run = tmp_path / "run"
    proc = _start(CASES[case], run)
    _wait_for_checkpoint(run, proc)
    time.sleep(random.Random(case).uniform(0.0, 0.6))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert _fingerprint(run) == references[case]


def test_sigterm_checkpoints_and_says_how_to_resume(references: dict, tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = _start(CASES["ppo"], run)
    _wait_for_checkpoint(run, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert f"resume with: pgrad train --resume {run}" in out.decode()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["interrupted"] is True
    latest = resume_module.latest_checkpoint(run)
    assert latest is not None and int(latest.name[6:]) == summary["updates"]  # saved at the stop
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert _fingerprint(run) == references["ppo"]


def test_a_second_sigint_exits_at_once_and_nothing_is_corrupted(
    references: dict, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    proc = _start(CASES["reinforce"], run)
    _wait_for_checkpoint(run, proc)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert _fingerprint(run) == references["reinforce"]


@pytest.mark.parametrize("stage", ["tensors", "manifest", "rename"])
def test_a_crash_during_a_checkpoint_write_leaves_the_previous_one(
    stage: str, references: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies (simulated) inside the third checkpoint write, at three stages."""
    calls = {"n": 0}

    class Crash(BaseException):
        pass

    def crash_on_third(real):
        def patched(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 3:
                raise Crash
            return real(*args, **kwargs)

        return patched

    target = {"tensors": "save_file", "manifest": "atomic_write_text", "rename": "fsync_dir"}[stage]
    monkeypatch.setattr(resume_module, target, crash_on_third(getattr(resume_module, target)))
    run = tmp_path / "run"
    with pytest.raises(Crash):
        main(["train", *CASES["ppo"], *COMMON, "--run-dir", str(run)])
    monkeypatch.undo()
    assert len(resume_module.complete_checkpoints(run / "checkpoints")) >= 1
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert _fingerprint(run) == references["ppo"]
    assert not list((run / "checkpoints").glob(".*tmp"))  # leftovers removed by later writes


def test_killed_after_its_last_checkpoint_resume_writes_the_outputs(
    references: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pgrad.trainer import loop

    class Crash(BaseException):
        pass

    def crash(*args: object, **kwargs: object) -> None:
        raise Crash

    monkeypatch.setattr(loop, "save_policy", crash)  # dies as the final outputs are written
    run = tmp_path / "run"
    with pytest.raises(Crash):
        main(["train", *CASES["ppo"], *COMMON, "--run-dir", str(run)])
    monkeypatch.undo()
    assert not (run / "summary.json").exists()
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert _fingerprint(run) == references["ppo"]


def test_killed_before_its_first_checkpoint_a_run_starts_again_in_place(
    references: dict, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    proc = _start(CASES["reinforce"], run)
    while not (run / "config.json").is_file():
        assert proc.poll() is None
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not resume_module.complete_checkpoints(run / "checkpoints")
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert _fingerprint(run) == references["reinforce"]


def test_resume_refuses_what_would_make_another_run(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    args = ["train", "--total-env-steps", "400", "--episodes-per-update", "4", "--num-envs", "4",
            "--eval-episodes", "2", "--target-return", "none", "--no-progress",
            "--no-tensorboard", "--run-dir", str(run)]  # fmt: skip
    assert main(args) == 0
    assert main(["train", "--resume", str(run), "--lr", "0.1"]) == 2
    assert "only --total-env-steps, --progress may change" in capsys.readouterr().err
    assert main(["train", "--resume", str(run)]) == 2
    assert "already finished (its budget spent" in capsys.readouterr().err
    assert main(["train", "--resume", str(run), "--total-env-steps", "800", "--no-progress"]) == 0
    assert json.loads((run / "summary.json").read_text())["env_steps"] >= 800
    assert main(["train", "--resume", str(tmp_path / "nothing")]) == 2
    assert "cannot read config" in capsys.readouterr().err


def test_a_config_that_imports_code_needs_trust(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    run.mkdir()
    cfg = pgrad.make_config(env="json:CartPole-v1", gym_packages=("json",))
    (run / "config.json").write_text(cfg.dumps())
    assert main(["train", "--resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert "imports json, json; pass --trust-env-module" in err
    assert main(["train", "--config", str(run / "config.json")]) == 2
    assert "--trust-env-module" in capsys.readouterr().err


def test_tensorboard_continues_without_duplicate_or_missing_steps(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    args = [a for a in COMMON if a != "--no-tensorboard"]
    command = [sys.executable, "-m", "pgrad.cli", "train", *CASES["ppo"], *args, "--run-dir",
               str(run)]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_checkpoint(run, proc, count=2)
    time.sleep(0.3)  # rows past the checkpoint reach TensorBoard, then the run dies
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    steps = [e.step for e in events.Scalars("loss/policy")]
    expected = [int(r["env_steps"]) for r in read_metrics(run / "metrics.csv")]
    assert steps == expected  # each update once, in order


def test_resuming_a_solved_run_says_how_to_train_on(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    args = ["train", "--total-env-steps", "4000", "--episodes-per-update", "4", "--num-envs", "4",
            "--eval-episodes", "2", "--target-return", "5", "--no-progress", "--no-tensorboard",
            "--run-dir", str(run)]  # fmt: skip
    assert main(args) == 0
    assert json.loads((run / "summary.json").read_text())["solved"]
    assert main(["train", "--resume", str(run), "--total-env-steps", "8000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "a solved run stops at its target" in err[0]
    follow = err[0].split("start a new run: ", 1)[1].replace("NEW", str(tmp_path / "more"))
    assert main([*follow.split()[1:], "--total-env-steps", "2000", "--no-progress"]) == 0
