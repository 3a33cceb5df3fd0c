"""Callbacks: called after every update and evaluation, able to stop a run, never silently
ignored."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import pgrad
from pgrad.errors import PgradError


def _settings(tmp_path: Path, name: str, **kw):
    return dict(dict(algo="reinforce", env="CartPole-v1", total_env_steps=20000,
                     episodes_per_update=4, progress=False, tensorboard=False,
                     run_dir=tmp_path / name, eval_interval=2, eval_episodes=5, eval_budget=0,
                     target_return="none"), **kw)  # fmt: skip


def _weights(policy) -> str:
    return hashlib.sha256(b"".join(v.numpy().tobytes()
                                   for v in policy.state_dict().values())).hexdigest()  # fmt: skip


def test_a_function_is_called_after_every_update_with_the_run_so_far(tmp_path: Path) -> None:
    seen = []
    result = pgrad.train(callbacks=[seen.append], **_settings(tmp_path, "run"))
    assert [p.update for p in seen] == list(range(1, result.updates + 1))
    assert seen[-1].env_steps == result.env_steps
    assert all(p.run_dir == result.run_dir for p in seen)
    assert [p.row["update"] for p in seen] == [p.update for p in seen]


def test_on_evaluation_sees_each_evaluation_and_callbacks_do_not_change_the_run(
        tmp_path: Path) -> None:  # fmt: skip
    class Watch:
        def __init__(self) -> None:
            self.means: list[float] = []

        def on_evaluation(self, p: pgrad.Progress) -> None:
            assert p.evaluation is not None
            self.means.append(p.evaluation.mean)

    watch = Watch()
    watched = pgrad.train(callbacks=[watch], **_settings(tmp_path, "watched", eval_interval=1))
    plain = pgrad.train(**_settings(tmp_path, "plain", eval_interval=1))
    metrics = (watched.run_dir / "metrics.csv").read_text().splitlines()
    column = metrics[0].split(",").index("eval/return_mean")
    logged = [float(r.split(",")[column]) for r in metrics[1:] if r.split(",")[column]]
    assert watch.means == pytest.approx(logged) and len(logged) >= 2
    assert _weights(watched.policy) == _weights(plain.policy)


def test_a_callback_can_stop_the_run_and_the_run_is_written_whole(tmp_path: Path) -> None:
    def stop_at_three(p: pgrad.Progress) -> None:
        if p.update == 3:
            p.stop("enough for the test")

    result = pgrad.train(callbacks=[stop_at_three], **_settings(tmp_path, "run"))
    assert result.updates == 3 and result.stopped_by == "enough for the test"
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["stopped_by"] == "enough for the test" and summary["updates"] == 3
    assert pgrad.load_policy(result.run_dir).metadata["update"] == 3


def test_something_that_is_not_a_callback_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PgradError, match="neither a function nor an object with on_update"):
        pgrad.train(callbacks=[42], **_settings(tmp_path, "run"))
    assert not (tmp_path / "run").exists()
