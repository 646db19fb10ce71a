"""Writes small scaffold plugins to disk for the scaffold tests."""

from __future__ import annotations

from pathlib import Path

SIMPLE_TEMPLATE_TOML = """\
name = "{name}"
description = "A test template"

[[parameters]]
name = "name"
description = "What to call it"
required = true

[[outputs]]
template = "file.txt.tera"
filename = "{{{{ name }}}}.txt"
"""


def write_plugin(
    directory: Path,
    *,
    name: str = "demo",
    language: str = "python",
    framework: str | None = None,
    templates: dict[str, str] | None = None,
) -> Path:
    """Write a plugin with one directory per template (``template.toml`` given, or a simple
    one writing ``{{ name }}.txt``) and return ``directory``."""
    if templates is None:
        templates = {"simple": SIMPLE_TEMPLATE_TOML.format(name="simple")}
    lines = [
        "[plugin]",
        f'name = "{name}"',
        'version = "1.2.3"',
        'description = "Test plugin"',
        f'language = "{language}"',
    ]
    if framework:
        lines.append(f'framework = "{framework}"')
    for template_name, toml_text in templates.items():
        template_dir = directory / "templates" / template_name
        template_dir.mkdir(parents=True)
        (template_dir / "template.toml").write_text(toml_text)
        (template_dir / "file.txt.tera").write_text("Hello {{ name }}\n")
        lines += [
            "[[templates]]",
            f'name = "{template_name}"',
            f'path = "templates/{template_name}"',
            'description = "A test template"',
        ]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tasker-plugin.toml").write_text("\n".join(lines) + "\n")
    return directory
