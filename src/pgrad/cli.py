"""The ``pgrad`` command: train, eval, record, plot, tune, export, push and lab.

Options come from the typed dataclasses (each algorithm's config, :class:`EvalArgs`,
:class:`pgrad.lab.config.LabConfig`) through tyro, so the command line and the Python API cannot
drift apart. Bad input ends with one line,
``error: <what is wrong and how to fix it>``, and exit status 2.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import tyro
from rich.console import Console

from pgrad.errors import PgradError
from pgrad.tuning.config import TuneConfig as TuneArgs

T = TypeVar("T")

USAGE = """usage: pgrad {train,eval,record,plot,tune,export,push,lab} [options]

Policy-gradient reinforcement learning, checked against the exact gradient.

commands:
  train [ALGO]  train an agent: reinforce (default), vpg, a2c or ppo (default env: CartPole-v1)
  eval          evaluate a trained run directory or checkpoint
  record        render episodes of a trained policy into an .mp4 video
  plot          learning curves of several runs, grouped by configuration, and a table
  tune [ALGO]   search hyperparameters with Optuna; the best config loads with --config
  export        write a trained run as a Hugging Face Hub folder: weights, card, results, video
  push          upload a run or an exported folder to the Hugging Face Hub
  lab           measure gradient estimators against the exact gradient of a finite MDP

`pgrad COMMAND --help` (and `pgrad train ALGO --help`) lists the options and their defaults;
`pgrad --version` prints the version.
"""

TRAIN_NOTES = """
`pgrad train ALGO` picks the algorithm ({algos}; default reinforce) and
`pgrad train ALGO --help` shows its own options and defaults. `--config PATH` starts from a
saved config (a run's config.json, or TOML): flags override it; unknown keys are errors.
"""


@dataclass(frozen=True)
class EvalArgs:
    """Evaluate a trained policy: mean ± std of the episode return."""

    path: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="PATH")]
    """A run directory (its final checkpoint), a .safetensors checkpoint, a folder written by
    `pgrad export`, or hf://USER/NAME[@REVISION] on the Hugging Face Hub."""
    episodes: int = 100
    """Episodes to run, all stepped together."""
    deterministic: bool = False
    """Take the most likely action (argmax or Gaussian mean) instead of sampling."""
    json: bool = False
    """Print one JSON object instead of a sentence."""
    seed: int = 0
    """Seed for the environments' resets and the action sampling."""
    trust_env_module: bool = False
    """Build an environment that the checkpoint names by MODULE:ID or gym packages (it imports
    that code)."""

    def __post_init__(self) -> None:
        if not 1 <= self.episodes <= 100_000:
            raise PgradError(
                f"episodes must be an integer in [1, 100000] (got {self.episodes}); try "
                "--episodes 100"
            )
        if not 0 <= self.seed <= 2**32 - 1:
            raise PgradError(f"seed must be an integer in [0, 2^32 - 1] (got {self.seed})")


@dataclass(frozen=True)
class RecordArgs:
    """Record episodes of a trained policy into a video (pip install -e ".[video]")."""

    path: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="PATH")]
    """A run directory, a .safetensors checkpoint, an exported folder or hf://USER/NAME."""
    out: Path = Path("video.mp4")
    """The video to write (.mp4, H.264)."""
    episodes: int = 1
    """Episodes to record, one after another."""
    fps: int = 30
    """Frames per second of the video."""
    deterministic: bool = False
    """Take the most likely action instead of sampling."""
    seed: int = 0
    """Seed of the first episode's reset (episode k: seed + k) and of the action sampling."""
    trust_env_module: bool = False
    """Build an environment that the checkpoint names by MODULE:ID or gym packages."""


@dataclass(frozen=True)
class PlotArgs:
    """Learning curves of several runs: seeds of one configuration averaged, with a 95% band."""

    runs: Annotated[tuple[Path, ...], tyro.conf.Positional]
    """Run directories, or folders holding them (e.g. the parent of `--seeds` runs)."""
    out: Path = Path("curves.png")
    """The figure to write (.png, .pdf or .svg)."""
    x: str = "env_steps"
    """The x-axis: env_steps, or time (training seconds)."""
    metric: str = "rollout/ep_return_mean"
    """The column of metrics.csv to draw."""


@dataclass(frozen=True)
class ShareOptions:
    """What `pgrad export` and `pgrad push` share: the policy, and how it is evaluated and
    filmed for the folder."""

    path: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="PATH")]
    """A run directory, a .safetensors checkpoint, an exported folder or hf://USER/NAME."""
    episodes: int = 100
    """Evaluation episodes behind results.json and the card's score."""
    seed: int = 0
    """Seed of the evaluation and of the video's episodes."""
    deterministic: bool = False
    """Evaluate and record with the most likely action instead of sampling."""
    video_episodes: int = 1
    """Episodes in replay.mp4 (0: no video, e.g. for an environment that cannot render)."""
    fps: int = 30
    """Frames per second of replay.mp4."""
    trust_env_module: bool = False
    """Build an environment that the checkpoint names by MODULE:ID or gym packages."""

    def settings(self) -> dict[str, Any]:
        """The evaluation and video settings, as keyword arguments of pgrad.hub.export."""
        names = ("episodes", "seed", "deterministic", "video_episodes", "fps", "trust_env_module")
        return {name: getattr(self, name) for name in names}


@dataclass(frozen=True)
class ExportArgs(ShareOptions):
    """Write a trained policy as a folder ready for the Hugging Face Hub: policy.safetensors and
    policy.json, config.json, results.json (a fresh evaluation), replay.mp4 and README.md (the
    model card, with the Hub's metadata)."""

    out: Path = Path("hub-export")
    """The folder to write; it must not exist yet, or be empty."""
    repo_id: str = ""
    """USER/NAME the card's usage lines name (empty: a placeholder)."""


@dataclass(frozen=True)
class PushArgs(ShareOptions):
    """Upload a trained policy to the Hugging Face Hub (pip install -e ".[hub]"; log in with
    `hf auth login` or HF_TOKEN). A run directory or checkpoint is exported first (the
    evaluation and video options apply); a folder written by `pgrad export` is uploaded as it
    is."""

    repo_id: str = ""
    """The Hub repository to write, USER/NAME (required; created if it does not exist)."""
    private: bool = False
    """Create the repository as private (an existing one keeps its visibility)."""
    commit_message: str = ""
    """The commit's message (empty: "pgrad: ALGO on ENV")."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (also used by the tests)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    try:
        if command == "--version":
            from pgrad import __version__

            print(f"pgrad {__version__}")
            return 0
        if command == "train":
            return _train(rest)
        if command == "eval":
            return _eval(rest)
        if command == "lab":
            return _lab(rest)
        if command == "plot":
            return _plot(rest)
        if command == "record":
            return _record(rest)
        if command == "tune":
            return _tune(rest)
        if command == "export":
            return _export(rest)
        if command == "push":
            return _push(rest)
        raise PgradError(f"unknown command {command!r}; use `pgrad train`, `eval`, `record`, "
                         "`plot`, `tune`, `export`, `push` or `lab`")  # fmt: skip
    except PgradError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `pgrad train --help | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _parse(
    cls: type[T], argv: list[str], prog: str, default: T | None = None,
    lists: frozenset[str] = frozenset(), description: str | None = None,
) -> T:  # fmt: skip
    """Parse ``argv`` into ``cls`` with tyro; its parse errors become one-line PgradErrors.

    ``lists``: flags whose values may also be given comma-separated (``--m 10,100``); values of
    any other flag are taken as they are (a path may contain a comma).
    """
    captured = io.StringIO()
    argv = _split_lists(argv, lists)
    try:
        with contextlib.redirect_stderr(captured):
            return tyro.cli(cls, args=argv, prog=prog, default=default, description=description,
                            config=(tyro.conf.OmitArgPrefixes,))  # fmt: skip
    except SystemExit as exc:
        if exc.code in (0, None):
            raise
        raise PgradError(f"{_one_line(captured.getvalue())}; see `{prog} --help`") from None


def _split_lists(argv: list[str], lists: frozenset[str]) -> list[str]:
    out: list[str] = []
    flag = ""
    for arg in argv:
        if arg.startswith("-"):
            flag = arg.split("=", 1)[0]
            out.append(arg)
        elif flag in lists and "," in arg and all(arg.split(",")):
            out.extend(arg.split(","))
        else:
            out.append(arg)
    return out


def _one_line(box: str) -> str:
    """The message inside tyro's error box, on one line."""
    lines = [line.strip(" │╭╮╰╯─\t") for line in box.splitlines()]
    body: list[str] = []
    for line in lines[1:]:
        if not line:
            continue
        if line.startswith(("Argument helptext", "For full helptext")) or set(line) <= {"─"}:
            break
        body.append(line)
    return " ".join(body) or "could not parse the arguments"


def _pop_option(argv: list[str], flag: str) -> tuple[str | None, list[str]]:
    """The value of ``flag`` (``--flag V`` or ``--flag=V``) and the other arguments."""
    for i, arg in enumerate(argv):
        if arg == flag:
            if i + 1 == len(argv):
                raise PgradError(f"{flag} needs a value; e.g. {flag} runs/NAME/config.json")
            return argv[i + 1], argv[:i] + argv[i + 2 :]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1], argv[:i] + argv[i + 1 :]
    return None, argv


def _train(argv: list[str]) -> int:
    algo, argv = _algo(argv)
    resume, argv = _pop_option(argv, "--resume")
    seeds, argv = _pop_seeds(argv)
    if seeds is not None and resume is not None:
        raise PgradError("--resume continues one run; drop --seeds")
    helping = "-h" in argv or "--help" in argv
    from pgrad.trainer.plots import PlotWorker

    plotter = None if helping else PlotWorker()  # imports matplotlib while torch loads here
    try:
        cfg = train_config(algo, argv, resume, helping)
        from pgrad.api import run_callbacks
        from pgrad.trainer.loop import train

        for one in seed_configs(cfg, seeds):
            result = train(one, console=Console(stderr=True), plotter=plotter,
                           resume=None if resume is None else Path(resume),
                           callbacks=run_callbacks(one))  # fmt: skip
            _report(result)
            if result.interrupted:
                return 130
    finally:
        if plotter is not None:
            plotter.close()
    return 0


def _algo(argv: list[str]) -> tuple[str | None, list[str]]:
    """The algorithm named first (or None) and the other arguments."""
    if "--algo" in argv or any(a.startswith("--algo=") for a in argv):
        raise PgradError("name the algorithm as a subcommand, e.g. `pgrad train ppo --env ...`")
    if argv and not argv[0].startswith("-"):
        return argv[0], argv[1:]
    return None, argv


def train_config(algo: str | None, argv: list[str], resume: str | None = None,
                 helping: bool = False) -> Any:  # fmt: skip
    """The config of ``pgrad train``'s options: from ``--config``, the run to ``resume``, the
    preset, or the algorithm's defaults; flags override it."""
    config_path, argv = _pop_option(argv, "--config")
    if resume is not None and config_path is not None:
        raise PgradError("--resume continues a run with its own config; drop --config")
    trust = "--trust-env-module" in argv
    use_preset = "--no-preset" not in argv
    argv = [a for a in argv if a not in ("--trust-env-module", "--no-preset")]
    from pgrad.algos import load_config  # torch and gymnasium load here

    path = Path(resume) / "config.json" if resume is not None else config_path
    default = load_config(Path(path), algo) if path is not None else None
    if default is not None:
        check_trusted(default, trust, "--resume" if resume is not None else "--config")
    if resume is None and default is not None and _names_own_run(default, Path(path or "")):
        default = default.replace(run_dir=None)  # a new run from a run's config: a new directory
    if default is None and use_preset and not helping:
        default = preset_config(algo, argv)
    cfg = _parse_train(algo, argv, default)
    if resume is not None:
        check_resumable(default, cfg)
    return cfg


def _names_own_run(cfg: Any, config_path: Path) -> bool:
    """Whether ``cfg`` is a run's own config.json, naming the directory it lies in."""
    run_dir = cfg.run.run_dir
    return run_dir is not None and Path(run_dir).resolve() == config_path.resolve().parent


def preset_config(algo: str | None, argv: list[str]) -> Any:
    """The config of the preset for ``algo`` and the ``--env`` of ``argv`` (announced on
    stderr), or None when there is none."""
    from pgrad.algos import ALGORITHMS
    from pgrad.api import make_config
    from pgrad.presets import describe, preset

    name = algo or next(iter(ALGORITHMS))
    env = _pop_option(argv, "--env")[0] or "CartPole-v1"  # peeked: argv itself is unchanged
    settings = preset(name, env)
    if settings is None or name not in ALGORITHMS:
        return None
    Console(stderr=True, soft_wrap=True).print(describe(name, env), markup=False, highlight=False)
    return make_config(name, env=env, **settings)


def _pop_seeds(argv: list[str]) -> tuple[list[int] | None, list[str]]:
    """The seeds of ``--seeds 1 2 3`` (or ``1,2,3``) and the other arguments."""
    if "--seeds" not in argv:
        return None, argv
    i = argv.index("--seeds")
    j = i + 1
    while j < len(argv) and not argv[j].startswith("-"):
        j += 1
    values = [v for a in argv[i + 1 : j] for v in a.split(",") if v]
    if not values or not all(v.isdigit() for v in values) or len(set(values)) < len(values):
        raise PgradError(f"--seeds needs distinct integers >= 0, e.g. --seeds 1 2 3 (got "
                         f"{' '.join(argv[i + 1 : j]) or 'nothing'})")  # fmt: skip
    if any(a == "--seed" or a.startswith("--seed=") for a in argv):
        raise PgradError("give either --seed or --seeds, not both")
    return [int(v) for v in values], argv[:i] + argv[j:]


def seed_configs(cfg: Any, seeds: list[int] | None) -> list[Any]:
    """``cfg`` once, or once per seed: with ``--run-dir BASE`` into ``BASE/seed-S``, else into
    each seed's default run directory (siblings under runs/). Every directory is checked before
    the first run starts, so a clash stops nothing half-way."""
    if seeds is None:
        return [cfg]
    from pgrad.trainer.run_dir import check_run_dir

    base = cfg.run.run_dir
    configs = [cfg.replace(seed=s, run_dir=base / f"seed-{s}" if base else None) for s in seeds]
    for one in configs:
        if one.run.run_dir is not None:
            check_run_dir(one.run.run_dir)
    return configs


def _parse_train(algo: str | None, argv: list[str], default: Any) -> Any:
    """The config of ``pgrad train [ALGO] [options]``, from ``default`` or the algorithm's own."""
    from pgrad.algos import ALGORITHMS, algorithm

    if default is None:
        default = algorithm(algo or next(iter(ALGORITHMS))).Config()
    cls = type(default)
    notes = TRAIN_NOTES.format(algos=", ".join(ALGORITHMS))
    text = [" ".join((cls.__doc__ or "").split()), " ".join(notes.split())]
    return _parse(cls, argv, f"pgrad train {cls.algo}", default=default,
                  description="\n\n".join(text))  # fmt: skip


RESUME_CHANGES = ("total_env_steps", "progress")
"""Options a resumed run may change (a longer budget; the progress bar)."""


def check_resumable(saved: Any, cfg: Any) -> None:
    """Refuse options that would make a resumed run another run."""
    a, b = saved.to_json(), cfg.to_json()
    for section in (a, b):
        for name in RESUME_CHANGES:
            section["run"].pop(name)
    if a != b:
        changed = sorted(k for k in a if a[k] != b.get(k))
        raise PgradError(f"--resume continues the run as it was configured; only "
                         f"{', '.join('--' + n.replace('_', '-') for n in RESUME_CHANGES)} may "
                         f"change (got changes in {', '.join(changed)})")  # fmt: skip


def check_trusted(cfg: Any, trust: bool, flag: str) -> None:
    """A saved config that imports code (MODULE:ID, --gym-packages) needs --trust-env-module."""
    imports = [cfg.env.id.rpartition(":")[0]] if ":" in cfg.env.id else []
    imports += list(cfg.env.gym_packages)
    if imports and not trust:
        raise PgradError(f"the config given to {flag} imports {', '.join(imports)}; pass "
                         "--trust-env-module if you trust that code")  # fmt: skip


def _report(result: Any) -> None:
    out = Console(soft_wrap=True)  # paths and commands stay on one line, to copy
    status = "[green]solved[/green]" if result.solved else "[yellow]not solved[/yellow]"
    target = "no target" if result.target_return is None else f"target {result.target_return:g}"
    ev = result.evaluation
    if result.interrupted:
        status += " [red](interrupted)[/red]"
    out.print(f"{result.policy.spec.env.env_id}: {status} ({target})")
    out.print(
        f"  env steps {result.env_steps:,} in {result.updates} updates, "
        f"train time {result.train_seconds:.2f} s, wall time {result.wall_seconds:.2f} s"
    )
    out.print(f"  final evaluation: {ev.mean:.2f} ± {ev.std:.2f} over {ev.episodes} episodes")
    out.print(f"  run written to {result.run_dir}")
    if result.interrupted:
        out.print(f"  resume with: pgrad train --resume {result.run_dir}", markup=False)


def _eval(argv: list[str]) -> int:
    args = _parse(EvalArgs, argv, "pgrad eval")
    from pgrad.api import evaluate, load_policy

    policy = load_policy(args.path)
    ev = evaluate(policy, episodes=args.episodes, deterministic=args.deterministic, seed=args.seed,
                  trust_env_module=args.trust_env_module)  # fmt: skip
    mode = "deterministic" if args.deterministic else "sampled"
    if args.json:
        print(json.dumps({
            "env": policy.env_id,
            "mean": ev.mean,
            "std": ev.std,
            "min": float(ev.returns.min()),
            "max": float(ev.returns.max()),
            "episodes": ev.episodes,
            "deterministic": args.deterministic,
            "checkpoint": str(args.path),
        }))  # fmt: skip
    else:
        print(
            f"{policy.env_id}: {ev.mean:.2f} ± {ev.std:.2f} "
            f"over {ev.episodes} episodes ({mode} actions)"
        )
    return 0


def _record(argv: list[str]) -> int:
    args = _parse(RecordArgs, argv, "pgrad record")
    from pgrad.api import load_policy, record

    returns = record(load_policy(args.path), args.out, episodes=args.episodes, fps=args.fps,
                     deterministic=args.deterministic, seed=args.seed,
                     trust_env_module=args.trust_env_module)  # fmt: skip
    print(f"{len(returns)} episode(s), returns {', '.join(f'{r:g}' for r in returns)}: "
          f"video written to {args.out}")
    return 0


def _plot(argv: list[str]) -> int:
    args = _parse(PlotArgs, argv, "pgrad plot")
    from pgrad.trainer.compare import compare

    print(compare(list(args.runs), args.out, x_axis=args.x, metric=args.metric))
    print(f"figure written to {args.out}")
    return 0


def _export(argv: list[str]) -> int:
    args = _parse(ExportArgs, argv, "pgrad export")
    from pgrad.hub.export import export

    out = export(args.path, args.out, repo_id=args.repo_id or None, **args.settings())
    print(f"exported {args.path} to {out}/ (upload it: pgrad push {out} --repo-id USER/NAME)")
    return 0


def _push(argv: list[str]) -> int:
    args = _parse(PushArgs, argv, "pgrad push")
    if not args.repo_id:
        raise PgradError("pgrad push needs --repo-id USER/NAME (the Hub repository to write)")
    from pgrad.hub.push import push

    url = push(args.path, args.repo_id, private=args.private,
               commit_message=args.commit_message or None, **args.settings())  # fmt: skip
    print(f"pushed to {args.repo_id}: {url}")
    print(f"  load it: pgrad eval hf://{args.repo_id}")
    return 0


TUNE_NOTES = """Every option of `pgrad train ALGO` (see `pgrad train ALGO --help`) also applies:
together they give the base config (a preset, --config PATH, flags) whose fields outside the
search space every trial keeps; trials train without early stopping."""


def _tune(argv: list[str]) -> int:
    algo, argv = _algo(argv)
    own, rest = split_flags(argv, TuneArgs)
    helping = "-h" in argv or "--help" in argv
    description = " ".join((TuneArgs.__doc__ or "").split()) + "\n\n" + " ".join(TUNE_NOTES.split())
    prog = f"pgrad tune {algo or ''}".strip()
    args = _parse(TuneArgs, own + (["--help"] if helping else []), prog,
                  lists=frozenset({"--seeds"}), description=description)  # fmt: skip
    cfg = train_config(algo, rest)
    from pgrad.api import tune

    best = tune(cfg, **{f.name: getattr(args, f.name) for f in dataclasses.fields(args)})
    from pgrad.tuning.study import shown

    print(f"best of {best.trials} trials: {best.best_value:.2f} with {shown(best.best_params)}")
    print(f"  train it: pgrad train --config {best.out / 'best_config.json'}")
    return 0


def split_flags(argv: list[str], cls: type) -> tuple[list[str], list[str]]:
    """``argv`` split into the options of dataclass ``cls`` (with their values) and the rest."""
    flags = {"--" + f.name.replace("_", "-") for f in dataclasses.fields(cls)}
    own: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        name = argv[i].split("=", 1)[0]
        into = own if name in flags else rest
        j = i + 1
        while "=" not in argv[i] and j < len(argv) and not argv[j].startswith("--"):
            j += 1  # the option's values (a tuple takes several)
        into.extend(argv[i:j])
        i = j
    return own, rest


def _lab(argv: list[str]) -> int:
    from pgrad.lab.config import LabConfig  # torch loads only when needed
    from pgrad.lab.report import run_lab

    run_lab(_parse(LabConfig, argv, "pgrad lab", lists=frozenset({"--m", "--estimators"})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
