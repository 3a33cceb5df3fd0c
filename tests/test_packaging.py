"""Installation: torch is a range a user's own torch can satisfy; fresh installs pin 2.13.0."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def test_torch_is_a_range_that_admits_the_pinned_build() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (torch,) = [Requirement(r) for r in project["dependencies"] if r.startswith("torch")]
    assert not any(s.operator == "==" for s in torch.specifier), torch
    assert "2.13.0" in torch.specifier and "2.12.0" in torch.specifier
    pins = (ROOT / "constraints.txt").read_text()
    assert re.search(r"^torch==2\.13\.0$", pins, re.M)


def test_quick_start_and_ci_install_through_the_constraints() -> None:
    readme = (ROOT / "README.md").read_text()
    installs = re.findall(r"pip install [^\n&]*-e \S+", readme.split("## Quick start")[1][:800])
    assert len(installs) == 2 and all("-c constraints.txt" in line for line in installs)
    assert "-c constraints.txt" in (ROOT / ".ci" / "run").read_text()
