"""Every ``pgrad ...`` command that README.md and docs/*.md show in a ```bash block runs.

The commands of one block run in order, in-process through ``pgrad.cli.main``, in a fresh working
directory, so that a line sees what the lines above it wrote; a documented command that no longer
works fails its block's test, which names the page and line. Budgets are cut by appending flags
the CLI accepts (the last of a repeated flag wins; see :func:`shortened`), never by timers.

The docs' placeholders (``RUN_DIR``, ``runs/RUN``, ``my_pkg.my_module`` ...) are made real by
:data:`PLACEHOLDERS`; a placeholder it does not know fails with a message asking for an entry.
:data:`NOT_RUN` lists the commands that cannot run here, each with its reason; they are parsed
only. A path that an earlier block of the same page writes (``--run-dir``, ``--out``) is copied
from that block's directory, as a reader who follows the page from the top has it.

Nothing leaves the machine: ``huggingface_hub.HfApi`` is replaced by :class:`LocalHub`, which
commits an upload into a local Hub cache that ``hf://`` paths then load from (offline), and
Weights & Biases runs offline.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pgrad.cli import main, split_flags, train_config
from pgrad.errors import PgradError
from pgrad.tuning.config import TuneConfig

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("README.md", *sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("docs/*.md")))


# ---------------------------------------------------------------------------------------------
# The commands of the docs


@dataclass(frozen=True)
class Command:
    """One ``pgrad`` command of a page: its environment assignments and the words after pgrad."""

    page: str
    line: int
    env: tuple[tuple[str, str], ...]
    args: tuple[str, ...]

    @property
    def text(self) -> str:
        """The command as the page shows it, without its comment."""
        return shlex.join([*(f"{k}={v}" for k, v in self.env), "pgrad", *self.args])

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


@dataclass(frozen=True)
class Block:
    """The ``pgrad`` commands of one ```bash block, in order; ``line`` is its opening fence."""

    page: str
    line: int
    commands: tuple[Command, ...]


SEPARATORS = frozenset({"&&", "||", ";", "|", "&"})
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def commands_of(text: str, page: str, line: int) -> list[Command]:
    """The ``pgrad`` commands of one shell line: comments dropped, split at ``&&``, ``;`` and
    pipes, each after its leading ``VAR=value`` assignments; other programs are left out."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    segments: list[list[str]] = [[]]
    for word in lexer:
        if word in SEPARATORS:
            segments.append([])
        else:
            segments[-1].append(word)
    out = []
    for words in segments:
        env = []
        while words and ASSIGNMENT.match(words[0]):
            name, _, value = words.pop(0).partition("=")
            env.append((name, value))
        if words and words[0] == "pgrad":
            out.append(Command(page, line, tuple(env), tuple(words[1:])))
    return out


def bash_blocks(page: str, markdown: str) -> list[Block]:
    """The ```bash blocks of ``markdown`` that hold ``pgrad`` commands; a line ending in ``\\``
    continues on the next."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```bash":
            i += 1
            continue
        start, commands = i + 1, []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            first, text = i + 1, lines[i]
            while text.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                text = text.rstrip()[:-1] + " " + lines[i]
            commands += commands_of(text, page, first)
            i += 1
        if commands:
            blocks.append(Block(page, start, tuple(commands)))
        i += 1
    return blocks


BLOCKS = [b for page in PAGES for b in bash_blocks(page, (ROOT / page).read_text())]
COMMANDS = [c for b in BLOCKS for c in b.commands]


# ---------------------------------------------------------------------------------------------
# What cannot run here, and the docs' placeholders

NOT_RUN: dict[str, str] = {
    "pgrad train ppo --env HalfCheetah-v5 --num-envs 64 --workers 32 --ray-address HOST:PORT":
        "joins a Ray cluster of other machines at HOST:PORT (the local Ray line above it runs)",
}  # fmt: skip
"""Documented commands that are parsed (their options checked) but not run, with the reason."""

INTERRUPTED: dict[str, str] = {
    "pgrad train ppo --env HalfCheetah-v5 ... --run-dir runs/cheetah":
        "the page says it is killed (Ctrl-C): the resume lines after it continue it",
}  # fmt: skip
"""Documented commands that the page says are stopped: they get a Ctrl-C (SIGINT, to pgrad's own
handler) after their first update, and must exit as a stopped run does, with status 130."""


def _same(ws: Workspace, key: str) -> str:
    """A name that needs nothing made: a new output, or something another entry provides."""
    return key


def _nothing(ws: Workspace, key: str) -> str:
    """``...``: the reader's other options; none here."""
    return ""


def _run(fixture: str) -> Callable[[Workspace, str], str]:
    """A copy of a tiny fixture run (see :data:`FIXTURE_RUNS`) at the placeholder's path."""

    def make(ws: Workspace, key: str) -> str:
        ws.copy_run(fixture, key)
        return key

    return make


USER_ENV = '''"""A user's environment: importing this module registers MyEnv-v0 (a CartPole)."""
import gymnasium as gym
from gymnasium.envs.classic_control.cartpole import CartPoleEnv


class MyEnv(CartPoleEnv):
    """The user's own environment."""


if "MyEnv-v0" not in gym.registry:
    gym.register("MyEnv-v0", entry_point=MyEnv, max_episode_steps=200)
'''
USER_MODULES = ("my_pkg", "my_pkg.my_module", "my_envs")


def _user_code(ws: Workspace, key: str) -> str:
    """``my_pkg.my_module`` (for ``--env MODULE:ID``) and ``my_envs`` (for ``--gym-packages``):
    importable stand-ins for the user's code that register ``MyEnv-v0``."""
    path = ws.cwd / "user-code" / (key.replace(".", "/") + ".py")
    if key == "my_envs":
        path = path.with_suffix("") / "__init__.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "__init__.py").touch()
    path.write_text(USER_ENV)
    ws.monkeypatch.syspath_prepend(str(ws.cwd / "user-code"))
    return key


def _mdp_file(ws: Workspace, key: str) -> str:
    """An MDP file of the lab's format: the shipped chain, saved."""
    from pgrad.exact import NAMED_MDPS, save_mdp

    save_mdp(NAMED_MDPS["chain"](), ws.cwd / key)
    return key


def _hub_model(ws: Workspace, key: str) -> str:
    """``hf://USER/NAME``: the tiny CartPole run, pushed with ``pgrad push`` to :class:`LocalHub`
    (unless the block pushed it already), so that it loads from the local Hub cache."""
    repo_id = key.removeprefix("hf://")
    if repo_id not in ws.hub.repos:
        ws.pgrad(["push", str(ws.runs.get("cartpole")), "--repo-id", repo_id], why=key)
    return key


PLACEHOLDERS: dict[str, Callable[[Workspace, str], str]] = {
    "runs/RUN": _run("cartpole"),          # pgrad train --config runs/RUN/config.json
    "RUN_DIR": _run("cartpole"),           # pgrad eval RUN_DIR --json
    "RUN": _run("cartpole"),               # pgrad export RUN --out DIR, pgrad push RUN ...
    "runs/CartPole-v1__reinforce__1__20261126-101500": _run("cartpole"),  # a default run name
    "path/to": _run("cartpole"),           # pgrad eval path/to/checkpoints/best.safetensors
    "runs/hopper": _run("hopper"),         # MUJOCO_GL=egl pgrad record runs/hopper ...
    "DIR": _same,                          # an output folder: --out DIR
    "HOST:PORT": lambda ws, key: "192.0.2.1:6379",  # --ray-address HOST:PORT (NOT_RUN)
    "...": _nothing,                       # pgrad train ppo --env HalfCheetah-v5 ... --run-dir
    "my_pkg.my_module": _user_code,        # --env my_pkg.my_module:MyEnv-v0
    "my_envs": _user_code,                 # --gym-packages my_envs
    "MyEnv-v0": _same,                     # registered by either of those two
    "my_mdp.npz": _mdp_file,               # pgrad lab --mdp my_mdp.npz
    "USER/NAME": _same,                    # a Hub repository id: --repo-id USER/NAME
    "hf://USER/NAME": _hub_model,          # pgrad eval hf://USER/NAME
}  # fmt: skip
"""What each placeholder of the docs becomes: ``make(workspace, placeholder)`` makes it exist in
the block's directory and returns the text to use instead."""

KNOWN = re.compile(
    r"(?<![\w])(?:" + "|".join(map(re.escape, sorted(PLACEHOLDERS, key=len, reverse=True)))
    + r")(?![\w])"
)  # fmt: skip
SUSPECT = re.compile(
    r"\.\.\.|<[^<>]+>|\bpath/to\b|\bmy_\w+|\bMy[A-Z]\w*|(?<![\w.-])[A-Z][A-Z0-9_]+(?![\w])"
)
"""What looks like a placeholder: ``...``, ``<name>``, ``path/to``, ``my_x``, ``MyX``, CAPITALS."""
NOT_PLACEHOLDERS = frozenset({"ALE"})
"""Capitals that are real: Gymnasium's Atari namespace (``ALE/Breakout-v5``)."""


def unknown_placeholders(args: tuple[str, ...]) -> list[str]:
    """The placeholder-like words of ``args`` that :data:`PLACEHOLDERS` does not cover."""
    return [m.group() for arg in args for m in SUSPECT.finditer(KNOWN.sub(" ", arg))
            if m.group() not in NOT_PLACEHOLDERS]  # fmt: skip


FIXTURE_RUNS = {
    "cartpole": ["train", "--total-env-steps", "2000"],
    "hopper": ["train", "ppo", "--env", "Hopper-v5", "--no-preset", "--total-env-steps", "1024"],
}
"""The tiny runs that placeholders copy, each trained once per session when first needed."""


# ---------------------------------------------------------------------------------------------
# Short budgets


def short_budget(steps: int) -> int:
    """A few thousand env steps, increasing with the documented budget: a resumed run's longer
    budget stays longer than the first run's."""
    return 1100 + steps // 1000


TRAIN_SHORT = ["--eval-episodes", "5", "--confirm-episodes", "10", "--no-tensorboard",
               "--no-progress"]  # fmt: skip
IMAGE_SHORT = ["--total-env-steps", "64", "--num-envs", "2", "--episodes-per-update", "2",
               "--num-steps", "32", "--update-epochs", "1", "--max-episode-steps", "50",
               "--eval-episodes", "2", "--checkpoint-every", "1000000"]  # fmt: skip
"""Also for image environments, whose CNN makes each step dear."""
SIZES = ["--update-epochs", "1"]
"""Also: PPO passes once over each batch."""
EPISODES_SHORT = ["--num-envs", "8", "--episodes-per-update", "8"]
"""Also for the algorithms that update on complete episodes: 8 an update, not 48."""
IMAGE_ENVS = ("ALE/", "MinAtar/")
TUNE_SHORT = ["--trials", "2", "--startup-trials", "1", "--seeds", "1", "--total-env-steps", "500"]
"""tune: two trials of one seed, each of one update or so (the space picks the batch size)."""
TUNE_SIZES = ["--num-envs", "1"]
"""Also for tune: one copy, which a trial keeps where its space leaves it (ppo's)."""
SHORT = {
    "eval": ["--episodes", "5"],
    "lab": ["--m", "10", "30", "--seeds", "3", "--ascent-steps", "2"],
}
"""Other commands' budgets; a command not named here runs as documented."""


def options(cfg: Any) -> set[str]:
    """The flags of a config instance, sections included, as tyro spells them."""
    out: set[str] = set()
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            out |= options(value)
            continue
        name = f.name.replace("_", "-")
        out |= {f"--{name}", f"--no-{name}"} if isinstance(value, bool) else {f"--{name}"}
    return out


def _groups(flags: list[str]) -> list[list[str]]:
    """``--flag value ...`` groups."""
    out: list[list[str]] = []
    for word in flags:
        if word.startswith("--") or not out:
            out.append([])
        out[-1].append(word)
    return out


def _sized(flags: list[str], cfg: Any, given: list[str]) -> list[str]:
    """The groups of ``flags`` that ``cfg`` has and the command line does not set itself."""
    have = options(cfg)
    taken = {a.split("=", 1)[0] for a in given if a.startswith("--")}
    return [w for g in _groups(flags) if g[0] in have and g[0] not in taken for w in g]


def _value(args: list[str], flag: str) -> str | None:
    """The value of ``flag`` (``--flag V`` or ``--flag=V``) in ``args``, or None."""
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def _without_seeds(args: list[str]) -> list[str]:
    if "--seeds" not in args:
        return args
    i = j = args.index("--seeds")
    while j + 1 < len(args) and not args[j + 1].startswith("-"):
        j += 1
    return args[:i] + args[j + 1 :]


def _train_short(cfg: Any, given: list[str], tune: bool = False) -> list[str]:
    """The budget, then the sizes that the line leaves to their defaults."""
    budget = ["--total-env-steps", str(short_budget(cfg.run.total_env_steps))]
    if cfg.env.id.startswith(IMAGE_ENVS):
        sizes = IMAGE_SHORT
    elif tune:
        sizes = TUNE_SIZES
    else:
        episodic = "--episodes-per-update" in options(cfg)
        sizes = [*SIZES, *(EPISODES_SHORT if episodic else [])]
    return [*budget, *TRAIN_SHORT, *_sized(sizes, cfg, given)]


def shortened(args: list[str]) -> list[str]:
    """``args`` (after ``pgrad``) with flags appended that cut its budget.

    ``train`` gets a budget of :func:`short_budget` of its own (preset, ``--config`` or flag),
    few evaluation episodes, no TensorBoard and no progress bar, and smaller batches where the
    line leaves them to their defaults (:data:`SIZES`, :data:`EPISODES_SHORT`, :data:`IMAGE_SHORT`,
    whose budget is tiny); ``tune`` :data:`TUNE_SHORT`; ``--resume`` changes only the
    budget (when the line does: above the steps the run has taken, so that it trains on) and
    the progress bar, the options a resumed run may change.
    """
    if not args or args[0].startswith("-") or "-h" in args or "--help" in args:
        return args
    command, rest = args[0], args[1:]
    algo = rest[0] if rest and not rest[0].startswith("-") else None
    flags = rest[1:] if algo else rest
    run = _value(flags, "--resume") if command == "train" else None
    if run is not None:
        steps = _value(flags, "--total-env-steps")
        if steps is None:
            return [*args, "--no-progress"]
        budget = short_budget(int(steps))
        summary = Path(run) / "summary.json"
        if summary.is_file():
            budget = max(budget, json.loads(summary.read_text())["env_steps"] + 1)
        return [*args, "--total-env-steps", str(budget), "--no-progress"]
    if command == "train":
        return [*args, *_train_short(train_config(algo, _without_seeds(flags)), flags)]
    if command == "tune":
        cfg = train_config(algo, split_flags(flags, TuneConfig)[1])
        return [*args, *_train_short(cfg, flags, tune=True), *TUNE_SHORT]
    return [*args, *SHORT.get(command, [])]


def check_options(args: list[str]) -> None:
    """Parse a command of :data:`NOT_RUN` without running it (``train`` and ``tune``)."""
    algo = args[1] if len(args) > 1 and not args[1].startswith("-") else None
    flags = args[2:] if algo else args[1:]
    if args[0] == "train":
        train_config(algo, _without_seeds(flags))
    elif args[0] == "tune":
        train_config(algo, split_flags(flags, TuneConfig)[1])


# ---------------------------------------------------------------------------------------------
# Running a block


class LocalHub:
    """Stands in for ``huggingface_hub.HfApi``: an upload is recorded and committed into a local
    Hub cache (``models--USER--NAME/snapshots/<sha>``, ``refs/main``) that ``hf://`` paths then
    load from, with the Hub offline."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        self.repos: set[str] = set()
        self.uploads: list[dict[str, Any]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> LocalHub:  # HfApi(token=...)
        return self

    def create_repo(self, repo_id: str, **kwargs: Any) -> str:
        self.repos.add(repo_id)
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, *, repo_id: str, folder_path: str, **kwargs: Any) -> SimpleNamespace:
        files = sorted(p.relative_to(folder_path).as_posix()
                       for p in Path(folder_path).rglob("*") if p.is_file())  # fmt: skip
        self.uploads.append({"repo_id": repo_id, "files": files, **kwargs})
        sha = hashlib.sha1(f"{repo_id} {len(self.uploads)}".encode()).hexdigest()
        repo = self.cache / ("models--" + repo_id.replace("/", "--"))
        shutil.copytree(folder_path, repo / "snapshots" / sha)
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / "main").write_text(sha)
        return SimpleNamespace(commit_url=f"https://huggingface.co/{repo_id}/commit/{sha}", oid=sha)


class FixtureRuns:
    """The runs of :data:`FIXTURE_RUNS`, each trained on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, name: str) -> Path:
        path = self.root / name
        if not (path / "checkpoints" / "final.safetensors").is_file():
            shutil.rmtree(path, ignore_errors=True)
            args = [*FIXTURE_RUNS[name], *TRAIN_SHORT, "--run-dir", str(path)]
            assert main(args) == 0, f"the fixture run `pgrad {shlex.join(args)}` failed"
        return path


@pytest.fixture(scope="session")
def fixture_runs(tmp_path_factory: pytest.TempPathFactory) -> FixtureRuns:
    return FixtureRuns(tmp_path_factory.mktemp("fixture-runs"))


BLOCK_DIRS: dict[tuple[str, int], Path | None] = {}
"""The directory each block ran in (None: it failed), for the blocks after it on its page."""


def _writes(block: Block) -> set[str]:
    """The paths the block's commands write (``--run-dir`` and ``--out`` values)."""
    return {c.args[i + 1] for c in block.commands for i in range(len(c.args) - 1)
            if c.args[i] in ("--run-dir", "--out")}  # fmt: skip


class Workspace:
    """A block's working directory and the means to run its commands."""

    def __init__(
        self,
        runs: FixtureRuns,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        factory: pytest.TempPathFactory,
    ) -> None:
        self.runs, self.monkeypatch, self.capsys, self.factory = runs, monkeypatch, capsys, factory
        self.cwd = Path.cwd()
        self.hub = LocalHub(factory.mktemp("hub-cache"))

    def copy_run(self, fixture: str, name: str) -> None:
        """The fixture run at ``name``, as if trained there (``--run-dir NAME``)."""
        if (self.cwd / name).exists():
            return
        shutil.copytree(self.runs.get(fixture), self.cwd / name)
        config = self.cwd / name / "config.json"
        saved = json.loads(config.read_text())
        saved["run"]["run_dir"] = name
        config.write_text(json.dumps(saved, indent=2))

    def run_block(self, block: Block) -> None:
        """Run the block's commands in order in the current directory, which becomes ``cwd``."""
        self.cwd = Path.cwd()
        BLOCK_DIRS[block.page, block.line] = None
        for command in block.commands:
            self.run(command, block)
        BLOCK_DIRS[block.page, block.line] = self.cwd

    def run(self, command: Command, block: Block) -> None:
        unknown = unknown_placeholders(command.args)
        assert not unknown, (
            f"{command.where}: `{command.text}` has placeholders {unknown} that "
            "tests/docs/test_commands.py does not know: add them to PLACEHOLDERS (or, if the "
            "command cannot run here, the command to NOT_RUN with the reason)"
        )
        resolved = [KNOWN.sub(lambda m: PLACEHOLDERS[m.group()](self, m.group()), a)
                    for a in command.args]  # fmt: skip
        args = [a for a in resolved if a]
        if command.text in NOT_RUN:
            try:
                check_options(args)
            except PgradError as exc:
                pytest.fail(f"{command.where}: `{command.text}` (not run: {NOT_RUN[command.text]})"
                            f" does not parse: error: {exc}")  # fmt: skip
            return
        self.carry_from_earlier_blocks(args, block)
        try:
            argv = shortened(args)
        except PgradError as exc:
            pytest.fail(f"{command.where}: `{command.text}` does not parse: error: {exc}")
        with self.monkeypatch.context() as patch:
            for name, value in command.env:
                patch.setenv(name, value)
            if command.text in INTERRUPTED:
                _ctrl_c_after_first_update(patch)
            self.pgrad(argv, why=f"{command.where}: `{command.text}`",
                       expect=130 if command.text in INTERRUPTED else 0)  # fmt: skip
        if args[0] == "push" and "--help" not in args:
            repo_id = _value(args, "--repo-id")
            assert any(u["repo_id"] == repo_id for u in self.hub.uploads), (
                f"{command.where}: `{command.text}` exited 0 but uploaded nothing to {repo_id}"
            )

    def pgrad(self, argv: list[str], why: str, expect: int = 0) -> None:
        """Run ``pgrad ARGV`` and require exit status ``expect`` (``--help`` exits through
        SystemExit)."""
        self.capsys.readouterr()
        try:
            status = main(argv)
        except SystemExit as exc:
            status = 0 if exc.code is None else exc.code
        err = self.capsys.readouterr().err
        tail = "\n".join(err.strip().splitlines()[-15:])
        ran = f"pgrad {shlex.join(argv)}"
        assert status == expect, f"{why} exited with {status}; ran `{ran}`\n{tail}"

    def carry_from_earlier_blocks(self, args: list[str], block: Block) -> None:
        """Copy in the paths ``args`` use that an earlier block of the page wrote."""
        for earlier in (b for b in BLOCKS if b.page == block.page and b.line < block.line):
            for path in _writes(earlier):
                used = any(a == path or a.startswith(path + "/") for a in args)
                if used and not (self.cwd / path).exists():
                    source = self.block_dir(earlier) / path
                    assert source.exists(), f"{earlier.page}:{earlier.line} did not write {path}"
                    copy = shutil.copytree if source.is_dir() else shutil.copy2
                    copy(source, self.cwd / path)

    def block_dir(self, block: Block) -> Path:
        """The directory ``block`` ran in, running it now if it has not run this session."""
        key = (block.page, block.line)
        if key not in BLOCK_DIRS:
            here = self.cwd
            os.chdir(self.factory.mktemp("earlier-block"))
            try:
                self.run_block(block)
            finally:
                os.chdir(here)
                self.cwd = here
        done = BLOCK_DIRS[key]
        assert done is not None, f"the block at {block.page}:{block.line} failed"
        return done


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
              fixture_runs: FixtureRuns,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:  # fmt: skip
    """A fresh working directory; the Hub replaced by a local one, W&B offline, learning curves
    drawn in-process."""
    monkeypatch.chdir(tmp_path)
    # pgrad train's PlotWorker, a child process that imports matplotlib while torch loads, helps
    # a fresh command only; without it (None) the learning curve is drawn in this process.
    monkeypatch.setattr("pgrad.trainer.plots.PlotWorker", lambda: None)
    ws = Workspace(fixture_runs, monkeypatch, capsys, tmp_path_factory)
    try:
        import huggingface_hub
        from huggingface_hub import constants
    except ImportError:
        pass
    else:
        monkeypatch.setattr(huggingface_hub, "HfApi", ws.hub)
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(ws.hub.cache))
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    for name in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):  # runs: RUN_DIR/wandb
        monkeypatch.setenv(name, str(tmp_path / "wandb-home"))
    for name, value in {"WANDB_MODE": "offline", "WANDB_SILENT": "true"}.items():
        monkeypatch.setenv(name, value)
    yield ws
    _forget_user_code()
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()


def _ctrl_c_after_first_update(patch: pytest.MonkeyPatch) -> None:
    """Add a callback to the runs of ``pgrad train`` that sends SIGINT after the first update."""
    import pgrad.api

    original = pgrad.api.run_callbacks

    def with_ctrl_c(cfg: Any, user: Any = ()) -> Any:
        sent: list[bool] = []

        def ctrl_c(progress: Any) -> None:
            if not sent:
                sent.append(True)
                signal.raise_signal(signal.SIGINT)

        return original(cfg, [*user, ctrl_c])

    patch.setattr(pgrad.api, "run_callbacks", with_ctrl_c)


def _forget_user_code() -> None:
    import gymnasium as gym

    for name in USER_MODULES:
        sys.modules.pop(name, None)
    gym.registry.pop("MyEnv-v0", None)


# ---------------------------------------------------------------------------------------------
# The tests


@pytest.mark.parametrize("block", BLOCKS, ids=[f"{b.page}:{b.line}" for b in BLOCKS])
def test_documented_commands_run(block: Block, workspace: Workspace) -> None:
    workspace.run_block(block)


def test_every_listed_command_is_still_documented() -> None:
    documented = {c.text for c in COMMANDS}
    assert not set(NOT_RUN) - documented, "NOT_RUN names commands the docs no longer show"
    assert not set(INTERRUPTED) - documented, "INTERRUPTED names commands the docs no longer show"


def test_the_docs_show_commands_of_every_kind() -> None:
    """The extraction finds the pages' commands (an empty list would test nothing)."""
    kinds = {c.args[0] for c in COMMANDS if c.args}
    assert {"train", "eval", "record", "plot", "tune", "lab", "--version"} <= kinds
    assert len(COMMANDS) > 50


def test_commands_are_extracted_as_the_shell_reads_them() -> None:
    markdown = "\n".join([
        "```bash",
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/pgrad train",
        "pgrad train --env Acrobot-v1 \\",
        "    --seed 3        # a comment",
        "export X=1",
        "MUJOCO_GL=egl pgrad record runs/r --out 'a b.mp4'",
        "pgrad train --run-dir runs/a && pgrad eval runs/a | head -1",
        "```",
        "```python",
        "pgrad train",
        "```",
    ])  # fmt: skip
    (block,) = bash_blocks("page.md", markdown)
    got = [(c.line, c.text) for c in block.commands]
    assert got == [
        (3, "pgrad train --env Acrobot-v1 --seed 3"),
        (6, "MUJOCO_GL=egl pgrad record runs/r --out 'a b.mp4'"),
        (7, "pgrad train --run-dir runs/a"),
        (7, "pgrad eval runs/a"),
    ]
    assert block.line == 1 and _writes(block) == {"a b.mp4", "runs/a"}


def test_an_unknown_placeholder_is_reported() -> None:
    assert unknown_placeholders(("eval", "RUN_DIR", "--env", "ALE/Pong-v5")) == []
    assert unknown_placeholders(("train", "--env", "my_pkg.my_module:MyEnv-v0")) == []
    assert unknown_placeholders(("plot", "runs/NAME", "--metric", "COLUMN")) == ["NAME", "COLUMN"]
    assert unknown_placeholders(("train", "--env", "my_other:YourEnv")) == ["my_other"]


def test_shortening_keeps_a_resumed_budget_above_the_first(tmp_path: Path) -> None:
    assert short_budget(1_000_000) < short_budget(2_000_000)  # HalfCheetah's preset, then longer
    assert short_budget(100_000) < short_budget(200_000)
    run = tmp_path / "run"
    resumed = shortened(["train", "--resume", str(run), "--total-env-steps", "200000"])
    assert resumed[-3:] == ["--total-env-steps", str(short_budget(200_000)), "--no-progress"]
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({"env_steps": 9000}))  # past both budgets
    resumed = shortened(["train", "--resume", str(run), "--total-env-steps", "200000"])
    assert resumed[-3:] == ["--total-env-steps", "9001", "--no-progress"]
    assert shortened(["train", "--resume", str(run)])[-1:] == ["--no-progress"]
