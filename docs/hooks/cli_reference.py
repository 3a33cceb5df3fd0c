"""The CLI reference of docs/cli.md, generated at build time from the dataclasses the command line
is parsed into.

Every ``pgrad`` option is a field of a typed dataclass, and its docstring (the string right below
the field) is its ``--help`` text. :func:`options` reads a dataclass the way the command line
does: fields that are dataclasses are sections whose prefix the command line omits, booleans are
``--x/--no-x``, a field's docstring is found in the first class of the MRO that documents it (a
subclass that only changes a default keeps its parent's text). :func:`command_markdown` turns
that into tables; :func:`reference` writes one section per algorithm of
:data:`pgrad.algos.ALGORITHMS` and per subcommand: every dataclass named ``*Args`` in
:mod:`pgrad.cli`, and :class:`pgrad.lab.config.LabConfig`. The mkdocs hook
:func:`on_page_markdown` puts the result in place of :data:`PLACEHOLDER`.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import html
import inspect
import itertools
import re
import textwrap
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLACEHOLDER = "<!-- cli-reference -->"
"""The line of docs/cli.md that the generated reference replaces."""

DEFAULTS_PLACEHOLDER = "<!-- algorithm-defaults -->"
"""The line of docs/algorithms.md that the generated table of defaults replaces."""

SUBCOMMAND_ORDER = ("train", "eval", "record", "plot", "tune", "lab")
"""Order of the subcommands when pgrad.cli's usage line does not give one."""


@dataclass(frozen=True)
class Option:
    """One option as the command line spells it."""

    flag: str
    """``--num-envs``, ``--x/--no-x`` for a boolean, or ``PATH`` for a positional argument."""
    type: str
    """The value's type: ``int``, ``float``, ``str``, ``path``, ``bool``, ``{a,b}``, ``int ...``."""
    default: str
    """The default as it would be typed, or ``required``."""
    help: str
    """The field's docstring, on one line."""
    name: str
    """The field's name in the dataclass."""


@dataclass(frozen=True)
class Section:
    """The options of one dataclass: the command's own, or one nested section's."""

    name: str
    """The field holding the section (empty for the command's own options)."""
    description: str
    """The first paragraph of the section class's docstring."""
    options: tuple[Option, ...]


@functools.cache
def field_docstrings(cls: type) -> dict[str, str]:
    """Each field's docstring: the string literal right after its annotated assignment, from the
    nearest class of the MRO that has one; whitespace runs become one space."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__ == "builtins":
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        node = ast.parse(source).body[0]
        if not isinstance(node, ast.ClassDef):
            continue
        body = node.body
        for stmt, after in itertools.pairwise(body):
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                    and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):  # fmt: skip
                docs[stmt.target.id] = " ".join(after.value.value.split())
    return docs


def summary(cls: type) -> str:
    """The first paragraph of a class's docstring, on one line (the nearest class of the MRO
    with a docstring of its own: not the signature a dataclass writes for a class without)."""
    for klass in cls.__mro__:
        doc = klass.__dict__.get("__doc__")
        if doc and not doc.startswith(f"{klass.__name__}("):
            return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())
    return ""


def _strip(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    """A type without ``Annotated``, and the metadata it carried."""
    if typing.get_origin(tp) is typing.Annotated:
        args = typing.get_args(tp)
        return args[0], tuple(args[1:])
    return tp, ()


def _arg_config(metadata: tuple[Any, ...], key: str) -> Any:
    """The value of ``key`` in a ``tyro.conf.arg(...)`` of ``metadata`` (None if unset)."""
    for meta in metadata:
        value = getattr(meta, key, None)
        if value is not None and type(meta).__name__ == "_ArgConfig":
            return value
    return None


def _positional(metadata: tuple[Any, ...]) -> bool:
    import tyro

    return any(meta is tyro.conf.Positional for meta in metadata)


def type_name(tp: Any) -> str:
    """A type as the reference shows it."""
    tp, _ = _strip(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return "{" + ",".join(str(a) for a in args) + "}"
    if origin in (types.UnionType, typing.Union):
        return " | ".join(type_name(a) for a in args)
    if origin is tuple:
        return f"{type_name(args[0])} ..."
    if tp is type(None):
        return "None"
    if isinstance(tp, type) and issubclass(tp, Path):
        return "path"
    return getattr(tp, "__name__", str(tp))


def default_text(value: Any) -> str:
    """A default as it would be typed on the command line."""
    if value is dataclasses.MISSING:
        return "required"
    if isinstance(value, tuple):
        return " ".join(default_text(v) for v in value) if value else "(empty)"
    if isinstance(value, str):
        return value if value else '""'
    return str(value)


def _default(f: dataclasses.Field[Any], owner: Any) -> Any:
    """The field's default: from the owning default instance, else the field's own."""
    if owner is not None:
        return getattr(owner, f.name)
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def options(cls: type, default: Any = None) -> list[Section]:
    """The options of dataclass ``cls`` by section, as the command line spells them.

    Args:
        cls: the dataclass a command is parsed into.
        default: an instance whose values are the defaults (None: the fields' own defaults).
    """
    hints = typing.get_type_hints(cls, include_extras=True)
    docs = field_docstrings(cls)
    own: list[Option] = []
    nested: list[Section] = []
    for f in dataclasses.fields(cls):
        tp, metadata = _strip(hints[f.name])
        value = _default(f, default)
        if dataclasses.is_dataclass(tp):
            inner = options(tp, None if value is dataclasses.MISSING else value)
            nested.append(Section(f.name, summary(tp), tuple(o for s in inner for o in s.options)))
            continue
        name = _arg_config(metadata, "name") or f.name.replace("_", "-")
        if _positional(metadata):
            flag = f.name.upper()
        elif tp is bool:
            flag = f"--{name}/--no-{name}"
        else:
            flag = f"--{name}"
        aliases = _arg_config(metadata, "aliases")
        if aliases:
            flag += ", " + ", ".join(aliases)
        hint = _arg_config(metadata, "help_behavior_hint")
        shown = default_text(value)
        if hint and value is None:
            shown = re.sub(r"^\(default: (.*)\)$", r"\1", hint)
        text = _arg_config(metadata, "help") or docs.get(f.name, "")
        own.append(Option(flag, type_name(tp), shown, text, f.name))
    return [Section("", summary(cls), tuple(own)), *nested]


def flags(cls: type) -> set[str]:
    """Every flag of ``cls`` (``--x`` and ``--no-x`` for a boolean), positionals excluded."""
    out: set[str] = set()
    for section in options(cls):
        for option in section.options:
            out.update(re.findall(r"--[a-z0-9][a-z0-9-]*", option.flag))
    return out


def _cell(text: str) -> str:
    """Text for a table cell: code spans kept, HTML and table syntax escaped."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)  # a table cell's code span may hold a pipe as it is
        else:
            part = html.escape(part, quote=False)
            out.append(re.sub(r"([\\|*_\[\]])", r"\\\1", part))
    return "".join(out)


def _code(text: str) -> str:
    return "`" + text + "`"


SECTION_TITLES = {
    "env": "Environment", "policy": "Policy", "optim": "Optimiser", "eval": "Evaluation",
    "run": "Run",
}  # fmt: skip


def command_markdown(cls: type, command: str, default: Any = None, level: int = 3,
                     notes: str = "") -> str:  # fmt: skip
    """The reference of one command: heading, description, a table per section.

    Args:
        cls: the dataclass the command is parsed into.
        command: the command as typed (``pgrad train ppo``).
        default: an instance holding the command's defaults (None: the fields' own).
        level: the heading level of the command.
        notes: text printed after the description (as ``--help`` does).
    """
    hashes = "#" * level
    lines = [f"{hashes} `{command}`", "", _cell(summary(cls)), ""]
    if notes:
        lines += [_cell(" ".join(notes.split())), ""]
    for section in options(cls, default):
        if not section.options:
            continue
        if section.name:
            title = SECTION_TITLES.get(section.name, section.name.capitalize())
            lines += [f"{hashes}# {title} (`{section.name}`) {{: #{_anchor(command, section)} }}",
                      "", _cell(section.description), ""]  # fmt: skip
        elif len(options(cls, default)) > 1:
            lines += [f"{hashes}# Options {{: #{_anchor(command, section)} }}", ""]
        lines += ["| option | type | default | description |", "|---|---|---|---|"]
        for o in section.options:
            lines.append(f"| {_code(o.flag)} | {_code(o.type)} | {_code(o.default)} | "
                         f"{_cell(o.help)} |")  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def _anchor(command: str, section: Section) -> str:
    words = [*command.split()[1:], section.name or "options"]
    return "-".join(words)


def subcommands() -> dict[str, type]:
    """Every subcommand but ``train`` by name, with the dataclass it is parsed into: each
    dataclass ``NameArgs`` of :mod:`pgrad.cli` (as ``name``) and ``lab``'s config."""
    from pgrad import cli
    from pgrad.lab.config import LabConfig

    found = {
        key[: -len("Args")].lower(): value
        for key, value in vars(cli).items()
        if key.endswith("Args") and dataclasses.is_dataclass(value) and isinstance(value, type)
    }
    found["lab"] = LabConfig
    match = re.search(r"\{([a-z,]+)\}", getattr(cli, "USAGE", ""))
    order = match.group(1).split(",") if match else list(SUBCOMMAND_ORDER)
    return dict(sorted(found.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order
                                                      else len(order), kv[0])))  # fmt: skip


def _notes(name: str) -> str:
    from pgrad import cli
    from pgrad.algos import ALGORITHMS

    notes = getattr(cli, f"{name.upper()}_NOTES", "")
    return notes.replace("{algos}", ", ".join(ALGORITHMS)) if isinstance(notes, str) else ""


def commands_table() -> str:
    """The commands of ``pgrad --help`` (pgrad.cli's usage text) as a table."""
    from pgrad import cli

    text = getattr(cli, "USAGE", "")
    listed = text.split("commands:", 1)[1].split("\n\n", 1)[0] if "commands:" in text else ""
    rows = [re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in listed.splitlines()]
    rows = [row for row in rows if len(row) == 2]
    if not rows:
        return ""
    lines = ["| command | what it does |", "|---|---|"]
    lines += [f"| {_code('pgrad ' + name)} | {_cell(what)} |" for name, what in rows]
    return "\n".join(lines) + "\n"


def reference() -> str:
    """The whole generated reference: the commands, ``pgrad train ALGO`` for every algorithm,
    then every other subcommand."""
    from pgrad.algos import ALGORITHMS

    parts = ["## Commands", "", commands_table(), "## `pgrad train ALGO`", "",
             _cell(" ".join(_notes("train").split())), ""]  # fmt: skip
    for name, module in ALGORITHMS.items():
        cls = module.Config
        parts.append(command_markdown(cls, f"pgrad train {name}", cls(), level=3))
    for name, cls in subcommands().items():
        command = f"pgrad {name} ALGO" if name == "tune" else f"pgrad {name}"
        parts.append(command_markdown(cls, command, None, level=2, notes=_notes(name)))
    return "\n".join(parts)


def defaults_table(configs: dict[str, Any]) -> str:
    """A table of defaults, one column per config instance (by algorithm name): every option an
    algorithm has that another lacks, or whose default differs between them."""
    columns = {name: {o.flag: o.default for s in options(type(cfg), cfg) for o in s.options}
               for name, cfg in configs.items()}  # fmt: skip
    order: list[str] = []
    for values in columns.values():
        order += [flag for flag in values if flag not in order]
    rows = [flag for flag in order
            if len({values.get(flag) for values in columns.values()}) > 1]  # fmt: skip
    lines = ["| option | " + " | ".join(f"`{n}`" for n in columns) + " |",
             "|---|" + "---:|" * len(columns)]  # fmt: skip
    for flag in rows:
        cells = [_code(v[flag]) if flag in v else "-" for v in columns.values()]
        lines.append(f"| {_code(flag)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def algorithm_defaults() -> str:
    """:func:`defaults_table` of every algorithm of :data:`pgrad.algos.ALGORITHMS`."""
    from pgrad.algos import ALGORITHMS

    return defaults_table({name: module.Config() for name, module in ALGORITHMS.items()})


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """mkdocs hook: the generated reference in place of :data:`PLACEHOLDER`, the table of
    defaults in place of :data:`DEFAULTS_PLACEHOLDER`."""
    if PLACEHOLDER in markdown:
        markdown = markdown.replace(PLACEHOLDER, reference())
    if DEFAULTS_PLACEHOLDER in markdown:
        markdown = markdown.replace(DEFAULTS_PLACEHOLDER, algorithm_defaults())
    return markdown
