"""The ``pgrad`` command: ``pgrad train`` and ``pgrad eval``.

Options come from the typed dataclasses (:class:`pgrad.config.Config`, :class:`EvalArgs`) through
tyro, so the command line and the Python API cannot drift apart. Bad input ends with one line,
``error: <what is wrong and how to fix it>``, and exit status 2.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TypeVar

import tyro
from rich.console import Console

from pgrad.config import Config
from pgrad.errors import PgradError

T = TypeVar("T")

USAGE = """usage: pgrad {train,eval,lab} [options]

Policy-gradient reinforcement learning, checked against the exact gradient.

commands:
  train   train REINFORCE on a Gymnasium environment (default: CartPole-v1)
  eval    evaluate a trained run directory or checkpoint
  lab     measure gradient estimators against the exact gradient of a finite MDP

`pgrad COMMAND --help` lists a command's options and their defaults.
"""


@dataclass(frozen=True)
class EvalArgs:
    """Evaluate a trained policy: mean ± std of the episode return."""

    path: Annotated[Path, tyro.conf.Positional]
    """A run directory (its final checkpoint) or a .safetensors checkpoint."""
    episodes: int = 100
    """Episodes to run, all stepped together."""
    deterministic: bool = False
    """Take the most likely action (argmax or Gaussian mean) instead of sampling."""
    json: bool = False
    """Print one JSON object instead of a sentence."""
    seed: int = 0
    """Seed for the environments' resets and the action sampling."""

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise PgradError(
                f"episodes must be a positive integer (got {self.episodes}); try --episodes 100"
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (also used by the tests)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    try:
        if command == "train":
            return _train(rest)
        if command == "eval":
            return _eval(rest)
        if command == "lab":
            return _lab(rest)
        raise PgradError(f"unknown command {command!r}; use `pgrad train`, `eval` or `lab`")
    except PgradError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _parse(cls: type[T], argv: list[str], prog: str, default: T | None = None) -> T:
    """Parse ``argv`` into ``cls`` with tyro; its parse errors become one-line PgradErrors."""
    captured = io.StringIO()
    # "--m 10,100" means "--m 10 100": split comma lists in values (not in flags).
    argv = [part for arg in argv for part in (arg.split(",") if _is_list(arg) else [arg])]
    try:
        with contextlib.redirect_stderr(captured):
            return tyro.cli(cls, args=argv, prog=prog, default=default)
    except SystemExit as exc:
        if exc.code in (0, None):
            raise
        raise PgradError(f"{_one_line(captured.getvalue())}; see `{prog} --help`") from None


def _is_list(arg: str) -> bool:
    return "," in arg and not arg.startswith("-") and all(arg.split(","))


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


def _algo_in(argv: list[str]) -> str:
    """The value of ``--algo`` in ``argv`` (default reinforce), so --help shows its defaults."""
    for i, arg in enumerate(argv):
        if arg == "--algo" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--algo="):
            return arg.split("=", 1)[1]
    return "reinforce"


def _train(argv: list[str]) -> int:
    defaults = Config(algo=_algo_in(argv))  # type: ignore[arg-type]
    cfg = _parse(Config, argv, "pgrad train", default=defaults)
    from pgrad.trainer.plots import PlotWorker

    plotter = PlotWorker()  # imports matplotlib on the other core while torch loads here
    try:
        from pgrad.trainer.loop import train  # torch and gymnasium load only when needed

        result = train(cfg, console=Console(stderr=True), plotter=plotter)
    finally:
        plotter.close()
    out = Console()
    status = "[green]solved[/green]" if result.solved else "[yellow]not solved[/yellow]"
    target = "no target" if result.target_return is None else f"target {result.target_return:g}"
    ev = result.evaluation
    if result.interrupted:
        status += " [red](interrupted)[/red]"
    out.print(f"{cfg.env}: {status} ({target})")
    out.print(
        f"  env steps {result.env_steps:,} in {result.updates} updates, "
        f"train time {result.train_seconds:.2f} s, wall time {result.wall_seconds:.2f} s"
    )
    out.print(f"  final evaluation: {ev.mean:.2f} ± {ev.std:.2f} over {ev.episodes} episodes")
    out.print(f"  run written to {result.run_dir}")
    return 130 if result.interrupted else 0


def _eval(argv: list[str]) -> int:
    args = _parse(EvalArgs, argv, "pgrad eval")
    from pgrad.api import evaluate, load_policy

    policy = load_policy(args.path)
    ev = evaluate(policy, episodes=args.episodes, deterministic=args.deterministic, seed=args.seed)
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


def _lab(argv: list[str]) -> int:
    from pgrad.lab.config import LabConfig  # torch loads only when needed
    from pgrad.lab.report import run_lab

    run_lab(_parse(LabConfig, argv, "pgrad lab"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
