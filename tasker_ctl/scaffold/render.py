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
    return env


def render_outputs(
    metadata: TemplateMetadata, plugin_root: Path, context: Mapping[str, str]
) -> list[RenderedFile]:
    """Render every output of ``metadata`` with ``context``; raise ``InvalidDataError`` on a
    template error, naming the file."""
    import jinja2

    env = _environment([metadata.directory, plugin_root])
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
        except (jinja2.TemplateError, TypeError) as exc:
            raise InvalidDataError(
                f"{where}: cannot render: {exc}",
                hint="declare every variable the template uses as a [[parameters]] entry",
            ) from exc
        relative = f"{subdir.rstrip('/')}/{filename}" if subdir else filename
        rendered.append(RenderedFile(relative, content, output.keep_existing))
    return rendered
