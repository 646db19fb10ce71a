"""Rendering a template's outputs with Jinja2 (which understands the Tera subset plugins use).

Variables that are not defined are errors, as in Tera. Files are loaded from the template's own
directory first, then from the plugin root, so templates of one plugin can share partials with
``{% include "_shared/….tera" %}``. Output file names and subdirectories are rendered too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tasker_ctl.errors import InvalidDataError
from tasker_ctl.scaffold.case import CASE_FILTERS
from tasker_ctl.scaffold.metadata import TemplateMetadata

if TYPE_CHECKING:
    import jinja2


@dataclass(frozen=True)
class RenderedFile:
    """One rendered output: its path relative to the output directory, and its text."""

    relative_path: str
    content: str
    keep_existing: bool = False


def _environment(search: list[Path]) -> jinja2.Environment:
    import jinja2  # only when rendering: `init` and the scaffold listings never need it

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(path) for path in search]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # generated source code, not HTML
    )
    env.filters.update(CASE_FILTERS)
    env.filters["truncate"] = _tera_truncate
    return env


def _tera_truncate(value: object, length: int = 255, end: str = "…") -> str:
    """Tera's ``truncate``: the first ``length`` characters, then ``end`` when anything was cut
    (Jinja2's own filter has other arguments and refuses short lengths)."""
    text = str(value)
    return text if len(text) <= length else text[:length] + end


def _failure_place(exc: BaseException, where: Path, roots: list[Path]) -> str:
    """``file:line`` of a rendering failure, from Jinja2's traceback (whose template frames carry
    the template's path and line): the innermost template frame, an included partial if the
    failure is there; an output name or subdir is reported as the template's ``template.toml``."""
    import traceback

    place: str | None = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if not frame.lineno:
            continue
        if frame.filename == "<template>":
            place = f"{where.parent / 'template.toml'} (an output filename or subdir)"
        elif any(Path(frame.filename).is_relative_to(root) for root in roots):
            place = f"{frame.filename}:{frame.lineno}"
    return place or str(where)


def render_outputs(
    metadata: TemplateMetadata, plugin_root: Path, context: Mapping[str, str]
) -> list[RenderedFile]:
    """Render every output of ``metadata`` with ``context``; raise ``InvalidDataError`` on a
    template error, naming the file."""
    import jinja2

    search = [metadata.directory, plugin_root]
    env = _environment(search)
    rendered: list[RenderedFile] = []
    for output in metadata.outputs:
        where = metadata.directory / output.template
        try:
            filename = env.from_string(output.filename).render(context)
            subdir = env.from_string(output.subdir).render(context) if output.subdir else ""
            content = env.get_template(output.template).render(context)
        except jinja2.TemplateSyntaxError as exc:
            raise InvalidDataError(
                f"{exc.filename or where}:{exc.lineno}: template syntax error: {exc.message}",
                hint="fix the template; plugins use Tera syntax that Jinja2 also understands",
            ) from exc
        except jinja2.UndefinedError as exc:
            raise InvalidDataError(
                f"{_failure_place(exc, where, search)}: cannot render: {exc}",
                hint="declare every variable the template uses as a [[parameters]] entry",
            ) from exc
        except Exception as exc:  # any failure inside a template is the template's
            raise InvalidDataError(
                f"{_failure_place(exc, where, search)}: cannot render: {type(exc).__name__}: {exc}",
                hint="fix the expression at that line (Jinja2 renders the plugin's Tera templates)",
            ) from exc
        relative = f"{subdir.rstrip('/')}/{filename}" if subdir else filename
        rendered.append(RenderedFile(relative, content, output.keep_existing))
    return rendered
