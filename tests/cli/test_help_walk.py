"""Every command's ``--help``, walked from typer's command tree (a new command is covered as soon
as it is registered): no stray space before punctuation, an ``Example:`` line that the real
parser accepts and that runs the command it documents, and no short flag with two meanings
beyond what upstream tasker-ctl itself defines (the table below)."""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from subprocesses import REPO_ROOT
from typer.core import TyperGroup, TyperOption
from typer.testing import CliRunner

from tasker_ctl.cli import app

# Upstream tasker-ctl's short flags on the commands both tools have, as its clap definitions
# declare them (crates/tasker-ctl/src/main.rs): (command, short flag, long option). Where
# upstream gives a letter a meaning, ours means the same there; these are the only places where
# one of our letters may mean something other than its one meaning in the rest of the tool.
UPSTREAM_SHORT_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("", "-c", "--config"),
    ("", "-p", "--profile"),
    ("", "-v", "--verbose"),
    ("task create", "-n", "--namespace"),
    ("task create", "-v", "--version"),
    ("task create", "-i", "--input"),
    ("task create", "-d", "--description"),
    ("task create", "-p", "--priority"),
    ("task create", "-c", "--correlation-id"),
    ("task list", "-n", "--namespace"),
    ("task list", "-s", "--status"),
    ("task list", "-l", "--limit"),
    ("task reset-step", "-r", "--reason"),
    ("task reset-step", "-b", "--reset-by"),
    ("task resolve-step", "-r", "--reason"),
    ("task resolve-step", "-b", "--resolved-by"),
    ("task complete-step", "-r", "--reason"),
    ("task complete-step", "-b", "--completed-by"),
    ("task visualize", "-f", "--format"),
    ("task visualize", "-o", "--output"),
    ("template list", "-l", "--language"),
    ("template list", "-f", "--framework"),
    ("template info", "-p", "--plugin"),
    ("template generate", "-p", "--param"),
    ("template generate", "-l", "--language"),
    ("template generate", "-o", "--output"),
    ("template visualize", "-a", "--annotations"),
    ("template visualize", "-o", "--output"),
    ("generate types", "-t", "--template"),
    ("generate types", "-l", "--language"),
    ("generate types", "-o", "--output"),
    ("generate types", "-s", "--step"),
    ("generate handler", "-t", "--template"),
    ("generate handler", "-l", "--language"),
    ("generate handler", "-o", "--output"),
    ("generate handler", "-s", "--step"),
    ("generate scaffold", "-t", "--template"),
    ("generate scaffold", "-l", "--language"),
    ("generate scaffold", "-o", "--output-dir"),
    ("generate scaffold", "-s", "--step"),
)

HELP_WIDTH = 200  # wide enough that no example line wraps
STRAY_SPACE = re.compile(r"\S( +[.,;:!?])(?=\s|$)")
EXAMPLE = re.compile(r"^\s*Example: (tasker-ctl .+?)\s*$", re.MULTILINE)


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


ROOT = typer.main.get_command(app)
COMMANDS = list(_commands(ROOT))
VISIBLE = [(path, command) for path, command in COMMANDS if not command.hidden]


@functools.cache
def _help(path: tuple[str, ...], flag: str = "--help") -> str:
    result = CliRunner().invoke(
        app, [*path, flag], env={"COLUMNS": str(HELP_WIDTH), "NO_COLOR": "1"}
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def _id(path: tuple[str, ...]) -> str:
    return " ".join(path) or "tasker-ctl"


def test_the_walk_sees_every_group_and_command() -> None:
    names = {_id(path) for path, _command in VISIBLE}
    assert {"tasker-ctl", "init", "task", "task create", "task templates show"} <= names
    assert len(VISIBLE) > 40


@pytest.mark.parametrize(("path", "command"), VISIBLE, ids=[_id(p) for p, _c in VISIBLE])
def test_help_has_no_stray_space_before_punctuation(path: tuple[str, ...], command: Any) -> None:
    stray = [line.strip() for line in _help(path).splitlines() if STRAY_SPACE.search(line)]
    assert stray == []


def _parse(argv: list[str]) -> tuple[str, ...]:
    """Parse ``argv`` (after ``tasker-ctl``) with the real parser, group by group, without
    running anything; the path of the command it reaches."""
    context = ROOT.make_context("tasker-ctl", list(argv))
    command, path = ROOT, ()
    while isinstance(command, TyperGroup):
        rest = [*context._protected_args, *context.args]
        if not rest:
            break
        name, command, remaining = command.resolve_command(context, rest)
        assert command is not None and name is not None
        path = (*path, name)
        context = command.make_context(name, remaining, parent=context)
    return path


@pytest.mark.parametrize(("path", "command"), VISIBLE, ids=[_id(p) for p, _c in VISIBLE])
def test_help_has_an_example_that_parses(
    path: tuple[str, ...], command: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)  # examples name the repository's own templates
    examples = EXAMPLE.findall(_help(path))
    assert len(examples) == 1, f"`tasker-ctl {_id(path)} --help` needs one 'Example:' line"
    words = shlex.split(examples[0])
    assert words[0] == "tasker-ctl"
    reached = _parse(words[1:])
    # A group may show one of its commands; a command shows itself.
    assert reached[: len(path)] == path, examples[0]
    if not isinstance(command, TyperGroup) or command.invoke_without_command:
        assert reached == path, examples[0]


def _short_flags() -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(command, short flag, its long names) for every option of every command."""
    for path, command in COMMANDS:
        for param in command.params:
            if isinstance(param, TyperOption):
                names = [*param.opts, *param.secondary_opts]
                longs = tuple(name for name in names if name.startswith("--"))
                for short in (name for name in names if not name.startswith("--")):
                    yield " ".join(path), short, longs


def _is_upstreams(command: str, short: str, longs: tuple[str, ...]) -> bool:
    return any(
        (command, short) == (where, letter) and upstream in longs
        for where, letter, upstream in UPSTREAM_SHORT_FLAGS
    )


def test_every_upstream_short_flag_means_the_same_here() -> None:
    ours = {(command, short): longs for command, short, longs in _short_flags()}
    for command, short, long in UPSTREAM_SHORT_FLAGS:
        assert long in ours.get((command, short), ()), f"{command} {short}: not upstream's {long}"


def _settled_meanings() -> dict[str, dict[str, list[str]]]:
    """For each letter, its meanings outside upstream's table, with the commands using each."""
    meanings: dict[str, dict[str, list[str]]] = {}
    for command, short, longs in _short_flags():
        if not _is_upstreams(command, short, longs):
            meanings.setdefault(short, {}).setdefault(longs[0], []).append(command or "(global)")
    return meanings


def test_no_short_flag_has_two_meanings_beyond_upstreams_table() -> None:
    upstream_meanings: dict[str, set[str]] = {}
    for _where, short, long in UPSTREAM_SHORT_FLAGS:
        upstream_meanings.setdefault(short, set()).add(long)
    problems = []
    for short, uses in sorted(_settled_meanings().items()):
        if len(uses) > 1:
            problems.append(f"{short} has {len(uses)} meanings: {uses}")
        for long, where in uses.items():
            # A letter that upstream uses keeps one of upstream's meanings everywhere else.
            if short in upstream_meanings and long not in upstream_meanings[short]:
                problems.append(f"{short} is {long} in {where}; upstream's {short} is not")
    assert problems == []


@pytest.mark.parametrize(("path", "command"), VISIBLE, ids=[_id(p) for p, _c in VISIBLE])
def test_h_is_help_everywhere(path: tuple[str, ...], command: Any) -> None:
    assert _help(path, "-h") == _help(path)


def test_the_readme_table_of_short_flags_gives_each_its_meaning() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(-[A-Za-z])` \| (.*)$", readme, re.MULTILINE))
    missing = []
    for command, short, longs in _short_flags():
        row = rows.get(short, "")
        means = row.split("|")[0]
        where = means if not _is_upstreams(command, short, longs) else row
        if not any(f"`{long}`" in where for long in longs):
            missing.append(f"{command or '(global)'} {short} {longs[0]}")
    assert sorted(set(missing)) == []
    assert "`--help`" in rows.get("-h", "")
