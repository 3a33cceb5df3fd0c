"""The documentation site: it builds in strict mode without a warning, and its CLI reference,
generated from the dataclasses, lists every option of every command."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import io
import os
import re
import subprocess
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Annotated, Literal

import pytest
import tyro

import pgrad.cli
from pgrad.algos import ALGORITHMS
from pgrad.config import EnvConfig
from pgrad.lab.config import LabConfig

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "docs" / "hooks" / "cli_reference.py"


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cli_reference", HOOK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["cli_reference"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference(hook: ModuleType) -> str:
    return str(hook.reference())


def _sections(markdown: str, level: int) -> dict[str, str]:
    """The text under each heading ``#... `pgrad ...``` of ``level``, by its command."""
    hashes = "#" * level
    parts = re.split(rf"^{hashes} `(pgrad [^`]+)`\s*$", markdown, flags=re.MULTILINE)
    ends = re.compile(rf"\n#{{1,{level}}} ")  # the next heading of this level or above
    return {parts[i]: ends.split(parts[i + 1])[0] for i in range(1, len(parts), 2)}


def _expected_flags(cls: type) -> set[str]:
    """Every flag of ``cls`` as tyro spells it with prefixes omitted, found independently of the
    generator: field names dashed, a ``tyro.conf.arg(name=...)`` override, ``--no-x`` too for a
    boolean, positionals as their upper-case name, sections recursed into."""
    out: set[str] = set()
    hints = typing.get_type_hints(cls, include_extras=True)
    for f in dataclasses.fields(cls):
        tp, meta = hints[f.name], ()
        if typing.get_origin(tp) is Annotated:
            tp, *meta = typing.get_args(tp)
        if dataclasses.is_dataclass(tp):
            out |= _expected_flags(tp)  # type: ignore[arg-type]
            continue
        names = [m.name for m in meta if getattr(m, "name", None)]
        name = names[0] if names else f.name.replace("_", "-")
        if any(m is tyro.conf.Positional for m in meta):
            out.add(f.name.upper())
        elif tp is bool:
            out |= {f"--{name}", f"--no-{name}"}
        else:
            out.add(f"--{name}")
    return out


def _help_flags(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The flags ``pgrad ARGV --help`` prints in its option boxes."""
    monkeypatch.setenv("COLUMNS", "120")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        pgrad.cli.main([*argv, "--help"])
    assert done.value.code in (0, None)
    flags: set[str] = set()
    for line in out.getvalue().splitlines():
        line = line.replace("│", " ")  # with or without boxes, as the terminal allows
        if re.match(r"^ {1,3}-", line):  # an option's own line (descriptions are indented more)
            first = re.split(r"\s{2,}", line.strip())[0]
            flags |= set(re.findall(r"--[a-z0-9][a-z0-9-]*", first))
    return flags - {"--help"}


def _args_classes() -> dict[str, type]:
    found = {name[: -len("Args")].lower(): value for name, value in vars(pgrad.cli).items()
             if name.endswith("Args") and dataclasses.is_dataclass(value)}  # fmt: skip
    return {**found, "lab": LabConfig}


def test_the_site_builds_strictly_without_warnings(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNING" not in output, output
    cli_page = (site / "cli" / "index.html").read_text()
    assert "<!-- cli-reference -->" not in cli_page  # the placeholder was replaced
    assert "--num-minibatches" in cli_page and "--episodes-per-update" in cli_page
    algorithms_page = (site / "algorithms" / "index.html").read_text()
    assert "<!-- algorithm-defaults -->" not in algorithms_page and "--clip-coef" in algorithms_page
    api_page = (site / "api" / "index.html").read_text()
    assert "score_function_loss" in api_page and "policy_gradient" in api_page
    assert ":class:" not in api_page and ":func:" not in api_page


@pytest.mark.parametrize("algo", list(ALGORITHMS))
def test_the_reference_lists_every_field_of_every_algorithm(
    algo: str, reference: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = _sections(reference, 3)[f"pgrad train {algo}"]
    shown = set(re.findall(r"^\| `([^`]+)`", section, flags=re.MULTILINE))
    shown_flags = {f for cell in shown for f in re.findall(r"--[a-z0-9][a-z0-9-]*", cell)}
    cls = ALGORITHMS[algo].Config
    assert _expected_flags(cls) == shown_flags
    assert _help_flags(["train", algo], monkeypatch) == shown_flags
    for row in re.findall(r"^\| `--.*$", section, flags=re.MULTILINE):
        assert row.rstrip(" |").split(" | ")[-1].strip(), f"an option without help text: {row}"


@pytest.mark.parametrize("name", list(_args_classes()))
def test_the_reference_lists_every_option_of_every_subcommand(
    name: str, reference: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sections = _sections(reference, 2)
    command = f"pgrad {name} ALGO" if name == "tune" else f"pgrad {name}"
    assert command in sections, sorted(sections)
    shown = set(re.findall(r"^\| `([^`]+)`", sections[command], flags=re.MULTILINE))
    shown_flags = {f for cell in shown for f in re.findall(r"--[a-z0-9][a-z0-9-]*", cell)}
    expected = _expected_flags(_args_classes()[name])
    assert {f for f in expected if f.startswith("--")} == shown_flags
    assert {f for f in expected if not f.startswith("--")} <= shown  # positionals
    assert _help_flags([name], monkeypatch) == shown_flags


def test_each_algorithm_shows_its_own_defaults_and_inherited_help(reference: str) -> None:
    sections = _sections(reference, 3)
    ppo, reinforce = sections["pgrad train ppo"], sections["pgrad train reinforce"]
    assert "| `--lr` | `float` | `0.00025` |" in ppo
    assert "| `--lr` | `float` | `0.05` |" in reinforce
    assert "| `--num-envs` | `int` | `48` |" in reinforce
    assert "| `--hidden-sizes` | `int ...` | `32` |" in reinforce
    # PPO overrides normalize_advantages without a docstring: RolloutConfig's text is kept.
    assert ("| `--normalize-advantages/--no-normalize-advantages` | `bool` | `True` | "
            "Standardise the advantages (PPO: within each minibatch). |") in ppo  # fmt: skip
    assert f"| `--env` | `str` | `{EnvConfig().id}` |" in ppo  # EnvConfig.id, renamed
    assert "Environment copies stepped together" in ppo


@dataclass(frozen=True)
class _Section:
    """A section of options.

    More text that is not the summary."""

    width: int = 3
    """How wide."""


@dataclass(frozen=True)
class _Base:
    """A command for the test."""

    source: Annotated[Path, tyro.conf.Positional]
    """Where from."""
    verbose: bool = False
    """Say more | and <this>."""
    sizes: tuple[int, ...] = (1, 2)
    """Sizes, space-separated."""


@dataclass(frozen=True)
class _Command(_Base):
    mode: Literal["a", "b"] = "b"
    """One of two."""
    renamed: Annotated[str, tyro.conf.arg(name="other")] = ""
    """A flag spelled otherwise."""
    verbose: bool = True
    section: _Section = _Section(width=5)


def test_the_generator_is_a_pure_function_of_the_dataclass(hook: ModuleType) -> None:
    text = hook.command_markdown(_Command, "pgrad demo", level=2)
    assert text.startswith("## `pgrad demo`\n\nA command for the test.\n")
    assert "| `SOURCE` | `path` | `required` | Where from. |" in text
    assert "| `--verbose/--no-verbose` | `bool` | `True` | Say more \\| and &lt;this&gt;. |" in text
    assert "| `--sizes` | `int ...` | `1 2` | Sizes, space-separated. |" in text
    assert "| `--mode` | `{a,b}` | `b` | One of two. |" in text
    assert '| `--other` | `str` | `""` | A flag spelled otherwise. |' in text
    assert "### Section (`section`) {: #demo-section }\n\nA section of options.\n" in text
    assert "| `--width` | `int` | `5` | How wide. |" in text
    assert hook.flags(_Command) == {"--verbose", "--no-verbose", "--sizes", "--mode", "--other",
                                    "--width"}  # fmt: skip
    assert text == hook.command_markdown(_Command, "pgrad demo", level=2)


def test_later_args_dataclasses_appear_by_themselves(
    hook: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgrad.cli, "DemoArgs", _Command, raising=False)
    assert hook.subcommands()["demo"] is _Command
    assert "## `pgrad demo`" in hook.reference()
