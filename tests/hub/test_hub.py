"""Sharing on the Hugging Face Hub: export a run, push it, load it back through hf:// paths.

No network here: the Hub is played by a local stand-in. ``StandInHub`` replaces
``huggingface_hub.HfApi`` (it keeps each pushed folder's files, as a repository would) and
``snapshot_download`` (it serves those files into a cache folder, honouring ``allow_patterns``);
one test goes through the real ``snapshot_download``, offline, on a populated Hub cache.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import pytest

import pgrad
from pgrad.cli import main
from pgrad.errors import PgradError

huggingface_hub = pytest.importorskip("huggingface_hub")
httpx = pytest.importorskip("httpx")

EXPORTED = {"policy.safetensors", "policy.json", "config.json", "results.json", "replay.mp4",
            "README.md"}  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hub") / "run"
    pgrad.train(algo="reinforce", env="CartPole-v1", total_env_steps=4000, progress=False,
                tensorboard=False, eval_interval=0, target_return="none", run_dir=path)  # fmt: skip
    return path


def evaluated(capsys, *argv: str) -> dict[str, Any]:
    """`pgrad eval ... --json`'s object."""
    capsys.readouterr()
    assert main(["eval", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def http_error(kind: type[Exception], status: int) -> Exception:
    """The error huggingface_hub raises for an HTTP ``status`` from the Hub."""
    request = httpx.Request("GET", "http://hub.invalid/api")
    return kind(f"{status} Client Error", response=httpx.Response(status, request=request))


class StandInHub:
    """The Hub's side of HfApi and snapshot_download, in a folder: repo id -> files."""

    def __init__(self, root: Path) -> None:
        self.root, self.calls = root, []

    def api(self, *args: Any, **kwargs: Any) -> StandInHub:
        return self

    def create_repo(self, repo_id: str, private: bool = False, exist_ok: bool = False) -> str:
        self.calls.append(("create_repo", repo_id, private, exist_ok))
        (self.root / "repos" / repo_id).mkdir(parents=True, exist_ok=True)
        return f"hub/{repo_id}"

    def upload_folder(self, repo_id: str, folder_path: str, commit_message: str) -> str:
        self.calls.append(("upload_folder", repo_id, commit_message))
        shutil.copytree(folder_path, self.root / "repos" / repo_id, dirs_exist_ok=True)
        return f"hub/{repo_id}/commit/1"

    def snapshot_download(self, repo_id: str, revision: str | None = None,
                          allow_patterns: list[str] | None = None,
                          **kwargs: Any) -> str:  # fmt: skip
        repo = self.root / "repos" / repo_id
        if not repo.is_dir():
            raise http_error(huggingface_hub.errors.RepositoryNotFoundError, 404)
        cache = self.root / "cache" / repo_id
        cache.mkdir(parents=True, exist_ok=True)
        for f in repo.iterdir():
            if allow_patterns is None or f.name in allow_patterns:
                shutil.copyfile(f, cache / f.name)
        return str(cache)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandInHub:
    stand_in = StandInHub(tmp_path / "hub")
    monkeypatch.setattr(huggingface_hub, "HfApi", stand_in.api)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", stand_in.snapshot_download)
    return stand_in


def test_an_exported_folder_round_trips_to_the_same_score(run_dir: Path, tmp_path: Path,
                                                         capsys) -> None:  # fmt: skip
    out = tmp_path / "export"
    argv = ["--episodes", "30", "--seed", "4"]
    assert main(["export", str(run_dir), "--out", str(out), "--repo-id", "alice/cartpole",
                 "--video-episodes", "2", *argv]) == 0  # fmt: skip
    assert {p.name for p in out.iterdir()} == EXPORTED
    results = json.loads((out / "results.json").read_text())
    again, original = evaluated(capsys, str(out), *argv), evaluated(capsys, str(run_dir), *argv)
    assert results["mean_reward"] == again["mean"] == original["mean"]
    assert results["std_reward"] == again["std"] and results["n_eval_episodes"] == 30
    assert len(results["returns"]) == 30 and results["env_id"] == "CartPole-v1"
    assert (out / "policy.safetensors").read_bytes() == (
        run_dir / "checkpoints" / "final.safetensors").read_bytes()
    frames = len(list(iio.imiter(out / "replay.mp4")))
    assert frames > 2  # two episodes: a frame per step and per reset
    config = json.loads((out / "config.json").read_text())
    assert config == json.loads((run_dir / "config.json").read_text())


def test_the_model_card_carries_the_hubs_metadata(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    assert main(["export", str(run_dir), "--out", str(out), "--repo-id", "alice/cartpole",
                 "--episodes", "10", "--video-episodes", "0"]) == 0  # fmt: skip
    assert "replay.mp4" not in {p.name for p in out.iterdir()}
    card = huggingface_hub.ModelCard.load(out / "README.md")
    results = json.loads((out / "results.json").read_text())
    assert card.data.library_name == "pgrad"
    assert {"reinforcement-learning", "reinforce", "CartPole-v1"} <= set(card.data.tags)
    (evaluation,) = card.data.eval_results
    assert evaluation.task_type == "reinforcement-learning" and evaluation.dataset_type == (
        "CartPole-v1")
    assert evaluation.metric_type == "mean_reward"
    mean, std = (float(v) for v in evaluation.metric_value.split(" +/- "))
    assert (mean, std) == (round(results["mean_reward"], 2), round(results["std_reward"], 2))
    assert card.data.model_name == "cartpole" and "pgrad eval hf://alice/cartpole" in card.text


def test_export_never_overwrites_and_leaves_nothing_half_written(run_dir: Path, tmp_path: Path,
                                                                 capsys) -> None:  # fmt: skip
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    assert main(["export", str(run_dir), "--out", str(taken)]) == 2
    assert main(["export", str(run_dir), "--out", str(tmp_path / "x"), "--episodes", "0"]) == 2
    assert main(["export", str(run_dir), "--out", str(tmp_path / "y"), "--repo-id", "no"]) == 2
    assert main(["export", str(tmp_path / "none"), "--out", str(tmp_path / "z")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 4 and all(e.startswith("error: ") for e in errors)
    assert "not an empty folder" in errors[0] and "USER/NAME" in errors[2]
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_push_exports_a_run_uploads_it_and_hf_paths_load_it(run_dir: Path, hub: StandInHub,
                                                           capsys) -> None:  # fmt: skip
    assert main(["push", str(run_dir), "--repo-id", "alice/cartpole", "--private",
                 "--episodes", "20", "--seed", "3"]) == 0  # fmt: skip
    assert "pgrad eval hf://alice/cartpole" in capsys.readouterr().out
    assert hub.calls == [("create_repo", "alice/cartpole", True, True),
                         ("upload_folder", "alice/cartpole", "pgrad: reinforce on CartPole-v1")]
    repo = hub.root / "repos" / "alice" / "cartpole"
    assert {p.name for p in repo.iterdir()} == EXPORTED
    assert "hf://alice/cartpole" in (repo / "README.md").read_text()
    (repo / "model.pkl").write_bytes(b"not to be fetched")
    loaded = evaluated(capsys, "hf://alice/cartpole", "--episodes", "20", "--seed", "3")
    assert loaded["mean"] == json.loads((repo / "results.json").read_text())["mean_reward"]
    fetched = {p.name for p in (hub.root / "cache" / "alice" / "cartpole").iterdir()}
    assert fetched == {"policy.safetensors", "policy.json"}  # never a pickle, never code
    assert pgrad.load_policy("hf://alice/cartpole").env_id == "CartPole-v1"


def test_push_uploads_an_exported_folder_as_it_is(run_dir: Path, hub: StandInHub,
                                                  tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "export"
    assert main(["export", str(run_dir), "--out", str(out), "--episodes", "5"]) == 0
    assert main(["push", str(out), "--repo-id", "bob/agent", "--commit-message", "first"]) == 0
    assert hub.calls[-1] == ("upload_folder", "bob/agent", "first")
    repo = hub.root / "repos" / "bob" / "agent"
    assert all((repo / p.name).read_bytes() == p.read_bytes() for p in out.iterdir())


def test_push_and_hub_paths_refuse_bad_input_in_one_line(run_dir: Path, hub: StandInHub,
                                                         monkeypatch, capsys) -> None:  # fmt: skip
    def unauthorized(*args: Any, **kwargs: Any) -> None:
        raise http_error(huggingface_hub.errors.HfHubHTTPError, 401)

    assert main(["push", str(run_dir)]) == 2  # no --repo-id
    assert main(["push", str(run_dir), "--repo-id", "a/b/c"]) == 2
    assert main(["eval", "hf://alice/missing"]) == 2
    assert main(["eval", "hf://not an id"]) == 2
    monkeypatch.setattr(hub, "create_repo", unauthorized)
    assert main(["push", str(run_dir), "--repo-id", "alice/x", "--video-episodes", "0"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 5 and all(e.startswith("error: ") for e in errors)
    assert "--repo-id" in errors[0] and "no such model repository" in errors[2]
    assert "hf auth login" in errors[4]
    assert not (hub.root / "repos").exists() or not any((hub.root / "repos").iterdir())


def test_a_hub_policy_that_imports_a_module_needs_consent(
    run_dir: Path, hub: StandInHub, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "export"
    assert main(["export", str(run_dir), "--out", str(out), "--episodes", "5"]) == 0
    meta = json.loads((out / "policy.json").read_text())
    meta["config"]["env"]["id"] = "pgrad_hub_trap:CartPole-v1"
    (out / "policy.json").write_text(json.dumps(meta))
    assert main(["push", str(out), "--repo-id", "eve/trap"]) == 0
    assert main(["eval", "hf://eve/trap", "--episodes", "2"]) == 2
    assert "pass --trust-env-module" in capsys.readouterr().err
    assert "pgrad_hub_trap" not in sys.modules
    with pytest.raises(PgradError, match="trust_env_module"):
        pgrad.evaluate(pgrad.load_policy("hf://eve/trap"), episodes=2)


def test_hub_paths_use_the_hubs_local_cache_offline(run_dir: Path, tmp_path: Path,
                                                    monkeypatch, capsys) -> None:  # fmt: skip
    """The real snapshot_download, offline: a cached revision loads, an uncached one fails."""
    constants = huggingface_hub.constants
    snapshot = tmp_path / "cache" / "models--alice--cartpole" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    for suffix in (".safetensors", ".json"):
        shutil.copyfile(run_dir / "checkpoints" / f"final{suffix}", snapshot / f"policy{suffix}")
    refs = snapshot.parent.parent / "refs"
    refs.mkdir()
    (refs / "main").write_text("a" * 40)
    (refs / "v1").write_text("a" * 40)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    cached = evaluated(capsys, "hf://alice/cartpole@v1", "--episodes", "10")
    assert cached["mean"] == evaluated(capsys, str(run_dir), "--episodes", "10")["mean"]
    assert main(["eval", "hf://alice/other", "--episodes", "10"]) == 2
    assert "not in the local cache" in capsys.readouterr().err
