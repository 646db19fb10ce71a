"""The README's layout section names every module under ``tasker_ctl/``, and nothing else."""

from __future__ import annotations

from pathlib import Path

import tasker_ctl

PACKAGE = Path(tasker_ctl.__file__).parent
README = PACKAGE.parent / "README.md"


def _layout_tree() -> list[str]:
    """The code block of the ``## Layout`` section, one line per entry."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Layout\n") :]
    start = section.index("```\n") + len("```\n")
    return section[start : section.index("```", start)].splitlines()


def _named_paths() -> set[str]:
    """Each entry as a path under ``tasker_ctl/``, from its indentation (two spaces a level)."""
    lines = _layout_tree()
    assert lines[0] == "tasker_ctl/"
    folders: list[str] = []
    named = set()
    for line in lines[1:]:
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name = line.split()[0]
        assert depth <= len(folders) + 1, f"README layout: {line!r} is indented too deep"
        del folders[depth - 1 :]
        path = "/".join([*folders, name.rstrip("/")])
        named.add(path)
        if name.endswith("/"):
            folders.append(name.rstrip("/"))
    return named


def _modules() -> set[str]:
    """Every module and package of ``tasker_ctl`` (a package stands for its ``__init__.py``)."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if "__pycache__" in relative.parts:
            continue
        if path.name == "__init__.py" and relative.parent != Path():
            found.add(relative.parent.as_posix())
        else:
            found.add(relative.as_posix())
    return found


def test_the_readme_layout_names_every_module_and_no_other() -> None:
    named, modules = _named_paths(), _modules()
    assert sorted(modules - named) == [], "modules missing from README's layout section"
    assert sorted(named - modules) == [], "README's layout section names modules that are gone"
