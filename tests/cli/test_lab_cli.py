"""`pgrad lab` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pgrad.cli import main


def test_lab_writes_its_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "lab"
    args = ["lab", "--mdp", "gridworld", "--m", "10,100", "--seeds", "4",
            "--estimators", "reinforce,reward_to_go",
            "--ascent-steps", "5", "--run-dir", str(run)]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "consistent with unbiased" in out and "reward_to_go" in out
    for name in ("config.json", "results.json", "report.md", "logits.npy",
                 "error_vs_m.png", "variance.png", "ascent.png"):  # fmt: skip
        assert (run / name).is_file(), name
    results = json.loads((run / "results.json").read_text())
    assert [(s["estimator"], s["m"]) for s in results["stats"]] == [
        ("reinforce", 10), ("reinforce", 100), ("reward_to_go", 10), ("reward_to_go", 100)
    ]  # fmt: skip
    assert results["enumeration_error"] < 1e-10
    assert len(results["curves"]["exact"]) == 6


def test_lab_reads_an_mdp_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "two.json"
    path.write_text(json.dumps({
        "initial": [1.0, 0.0], "transitions": [[[0.5, 0.5]], [[0.0, 1.0]]],
        "rewards": [[1.0], [2.0]], "horizon": 3, "discount": 0.9,
    }))  # fmt: skip
    assert main(["lab", "--mdp", str(path), "--m", "5", "20", "--seeds", "3",
                 "--ascent-steps", "0", "--run-dir", str(tmp_path / "r")]) == 0  # fmt: skip
    assert "two.json" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--mdp", "maze"], "neither a shipped MDP"),
        (["--estimators", "magic"], "unknown estimators ['magic']"),
        (["--m", "0"], "m must be integers >= 2"),
        (["--seeds", "1"], "seeds must be >= 2"),
    ],
)
def test_bad_lab_input(
    argv: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lab", *argv, "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0]
    assert not (tmp_path / "r").exists()
