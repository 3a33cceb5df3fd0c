"""`pgrad record`: a real video file with one frame per step plus one per reset."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import pytest

import pgrad
from pgrad.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("record") / "run"
    pgrad.train(algo="reinforce", env="CartPole-v1", total_env_steps=3000, progress=False,
                tensorboard=False, eval_interval=0, target_return="none", run_dir=path)  # fmt: skip
    return path


def test_the_video_has_a_frame_per_step_and_per_reset(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "video.mp4"
    returns = pgrad.record(pgrad.load_policy(run_dir), out, episodes=2, seed=5)
    frames = list(iio.imiter(out))
    assert len(frames) == int(sum(returns)) + 2  # CartPole: reward 1 per step
    assert frames[0].shape[-1] == 3 and frames[0].shape[:2] == (400, 600)


def test_record_from_the_command_line_and_its_bad_input(run_dir: Path, tmp_path: Path,
                                                        capsys) -> None:  # fmt: skip
    out = tmp_path / "v.mp4"
    assert main(["record", str(run_dir), "--episodes", "1", "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    assert main(["record", str(run_dir), "--out", str(tmp_path / "v.avi")]) == 2
    assert main(["record", str(run_dir), "--episodes", "0", "--out", str(out)]) == 2
    assert main(["record", str(tmp_path / "missing"), "--out", str(out)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(e.startswith("error: ") for e in errors)
    assert not (tmp_path / "v.avi").exists()


def test_video_every_records_during_training_without_changing_it(tmp_path: Path) -> None:
    settings = dict(algo="reinforce", env="CartPole-v1", total_env_steps=1200, num_envs=4,
                    episodes_per_update=4, progress=False, tensorboard=False, eval_interval=0,
                    target_return="none")  # fmt: skip
    filmed = pgrad.train(video_every=2, run_dir=tmp_path / "filmed", **settings)
    plain = pgrad.train(run_dir=tmp_path / "plain", **settings)
    videos = sorted(p.name for p in (tmp_path / "filmed" / "videos").iterdir())
    assert videos == [f"update-{u:08d}.mp4" for u in range(2, filmed.updates + 1, 2)]
    assert all(len(list(iio.imiter(tmp_path / "filmed" / "videos" / v))) > 1 for v in videos)
    same = [(a == b).all() for a, b in zip(filmed.policy.state_dict().values(),
                                           plain.policy.state_dict().values(), strict=True)]
    assert all(same) and filmed.updates == plain.updates > 2
