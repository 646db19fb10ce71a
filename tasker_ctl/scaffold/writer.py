"""Writing rendered files safely: every path is checked before the first byte is written.

A rendered path that would land outside the output directory (``..``, an absolute path, a
symlink that points out) is refused, as is overwriting an existing file without ``force``.
Checks run over all files first, so a refused generation leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath, PureWindowsPath

from tasker_ctl.errors import TaskerCtlError, UsageError
from tasker_ctl.scaffold.render import RenderedFile


class WriteAction(Enum):
    """What happens to one output file."""

    CREATE = "create"
    OVERWRITE = "overwrite"
    KEEP = "keep"  # a keep_existing output that already exists


@dataclass(frozen=True)
class PlannedFile:
    """A checked output: where it goes (as the user will read it), its text, what happens."""

    path: Path
    content: str
    action: WriteAction


def plan_writes(
    output_dir: Path, files: Sequence[RenderedFile], *, force: bool
) -> list[PlannedFile]:
    """Check every destination under ``output_dir``; raise before anything is written."""
    base = output_dir.resolve()
    planned: list[PlannedFile] = []
    seen: set[Path] = set()
    existing: list[Path] = []
    for file in files:
        relative = _safe_relative(file.relative_path, output_dir)
        path = output_dir / relative
        if not path.resolve().is_relative_to(base):
            raise _outside(file.relative_path, output_dir, "it passes through a symlink")
        if path.resolve() in seen:
            raise TaskerCtlError(
                f"two outputs of the template render to the same file {path}",
                hint="give each [[outputs]] entry a distinct filename or subdir",
            )
        seen.add(path.resolve())
        if path.is_dir():
            raise TaskerCtlError(f"{path} is a directory", hint="remove it or choose --output")
        if not (path.exists() or path.is_symlink()):
            action = WriteAction.CREATE
        elif file.keep_existing:
            action = WriteAction.KEEP
        elif force:
            action = WriteAction.OVERWRITE
        else:
            existing.append(path)
            continue
        planned.append(PlannedFile(path, file.content, action))
    if existing:
        listed = ", ".join(str(path) for path in existing)
        raise TaskerCtlError(
            f"not overwriting existing file{'s' if len(existing) > 1 else ''}: {listed}",
            hint="pass --force to overwrite, or choose another --output directory",
        )
    return planned


def write_planned(planned: Sequence[PlannedFile]) -> None:
    """Write the planned files, creating parent directories."""
    for item in planned:
        if item.action is WriteAction.KEEP:
            continue
        try:
            item.path.parent.mkdir(parents=True, exist_ok=True)
            item.path.write_text(item.content, encoding="utf-8")
        except OSError as exc:
            raise TaskerCtlError(
                f"cannot write {item.path}: {exc.strerror or exc}",
                hint="check that the output directory is writable",
            ) from exc


def _safe_relative(rendered: str, output_dir: Path) -> PurePosixPath:
    if not rendered.strip():
        raise _outside(rendered, output_dir, "it renders to an empty path")
    if PurePosixPath(rendered).is_absolute() or PureWindowsPath(rendered).drive:
        raise _outside(rendered, output_dir, "it is an absolute path")
    relative = PurePosixPath(rendered.replace("\\", "/"))
    if ".." in relative.parts:
        raise _outside(rendered, output_dir, "it contains '..'")
    return relative


def _outside(rendered: str, output_dir: Path, reason: str) -> UsageError:
    return UsageError(
        f"refusing to write '{rendered}': it would land outside {output_dir} ({reason})",
        hint="parameter values used in file names must not contain '/', '..' or absolute paths",
    )
