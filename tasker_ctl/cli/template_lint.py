"""``template validate`` and ``template inspect``: lint templates for people and for CI."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tasker_ctl.cli import console
from tasker_ctl.cli.console import plural
from tasker_ctl.cli.options import FormatOption, OutputFormat
from tasker_ctl.errors import EXIT_FAILURE, EXIT_OK, UsageError

if TYPE_CHECKING:
    from tasker_ctl.remote.promote_report import PromoteCheck
    from tasker_ctl.template.findings import FileReport, Severity


class ReportFormat(StrEnum):
    """How ``template validate`` prints its findings."""

    TEXT = "text"
    JSON = "json"
    GITHUB = "github"


class MinimumSeverity(StrEnum):
    """The least severe finding shown."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_SEVERITY_COLOR = {"error": "\x1b[31m", "warning": "\x1b[33m", "info": "\x1b[2m"}


def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Template files, or directories searched for templates "
            "(default: the configured template paths).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="text, json, or github annotations.")
    ] = ReportFormat.TEXT,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail (exit 1) on warnings too.")
    ] = False,
    min_severity: Annotated[
        MinimumSeverity | None,
        typer.Option(
            "--min-severity",
            help="Least severe finding shown (default: warning; info for json).",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-p",
            help="Also compare each template with what this profile's Tasker server has "
            "registered (default: the global --profile; never $TASKER_CLIENT_PROFILE).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Lint task templates: structure, DAG rules, schemas. Never imports handler code.

    Exit 0 when no file has an error, 1 when one does (or a warning under --strict), 2 for a
    path that does not exist. A directory walk skips hidden directories, virtualenvs,
    node_modules, what .gitignore ignores, and YAML files that are not templates; files named
    explicitly are always checked. With no path, the configured template paths are linted.

    With --profile, each valid template is also looked up on that Tasker server: registered or
    not, and whether the server's copy differs where it can be compared (warnings: --strict
    fails on them).

    Example: tasker-ctl template validate templates/
    """
    from tasker_ctl.template.findings import Severity
    from tasker_ctl.template.output import github_annotations, reports_to_json
    from tasker_ctl.template.validation import expand_paths, validate_file

    if not paths:
        paths = _configured_template_paths()
    files = expand_paths(paths)
    if not files:
        raise UsageError(
            "no template files (*.yaml, *.yml) under " + ", ".join(str(p) for p in paths),
            hint="point at template files or a directory that contains them",
        )
    reports = [validate_file(path) for path in files]
    check = _server_check(profile, reports)
    default = (
        MinimumSeverity.INFO if output_format is ReportFormat.JSON else MinimumSeverity.WARNING
    )
    minimum = Severity(min_severity or default)
    if output_format is ReportFormat.JSON:
        document = reports_to_json(reports, minimum)
        if check is not None:
            document["server"] = check.to_json()
        print(json.dumps(document, indent=2))
    elif output_format is ReportFormat.GITHUB:
        for line in github_annotations(reports, minimum) + (check.annotations() if check else []):
            print(line)
    else:
        _print_text(reports, minimum)
        if check is not None:
            print("\n" + "\n".join(check.text_lines()))
    failed = any(not r.valid or (strict and r.count(Severity.WARNING)) for r in reports)
    failed = failed or bool(strict and check is not None and check.warnings)
    raise typer.Exit(EXIT_FAILURE if failed else EXIT_OK)


def _server_check(profile: str | None, reports: list[FileReport]) -> PromoteCheck | None:
    """The promote check against ``profile`` (else the global --profile), or None."""
    from tasker_ctl.cli.backend import profile_flag

    name = profile or profile_flag()
    if name is None:
        return None
    from tasker_ctl.remote.promote_report import check_against_server

    return check_against_server(name, reports)


def _print_text(reports: list[FileReport], minimum: Severity) -> None:
    from tasker_ctl.template.findings import Severity
    from tasker_ctl.template.output import shown

    color = console.color_enabled(sys.stdout)
    for report in reports:
        findings = sorted(shown(report.findings, minimum), key=lambda f: f.line or 0)
        for finding in findings:
            place = f"{report.path}:{finding.line}" if finding.line else str(report.path)
            severity = str(finding.severity)
            if color:
                severity = f"{_SEVERITY_COLOR[severity]}{severity}\x1b[0m"
            print(f"{place}: {severity} {finding.code} {finding.message}")
        if findings:
            print()
    errors = sum(r.count(Severity.ERROR) for r in reports)
    warnings = sum(r.count(Severity.WARNING) for r in reports)
    infos = sum(r.count(Severity.INFO) for r in reports)
    invalid = sum(1 for r in reports if not r.valid)
    counts = f"{plural(errors, 'error')}, {plural(warnings, 'warning')}, {infos} info"
    hidden = sum(len(r.findings) - len(shown(r.findings, minimum)) for r in reports)
    if hidden:
        counts += f"; {hidden} not shown (--min-severity info shows all)"
    if invalid:
        files = plural(len(reports), "template file")
        print(f"✗ {invalid} of {files} invalid: {counts}")
    else:
        console.success(f"{plural(len(reports), 'template file')} valid: {counts}")


def inspect(
    file: Annotated[Path, typer.Argument(help="A task template file.")],
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Show a template's shape: roots, leaves, execution order, parallel levels, critical path.

    Example: tasker-ctl template inspect templates/ecommerce_order_processing.yaml
    """
    from tasker_ctl.template.inspect import inspect_template
    from tasker_ctl.template.validation import load_template

    require_template_file(file)
    summary = inspect_template(load_template(file))
    if output_format is OutputFormat.JSON:
        print(json.dumps(summary, indent=2))
        return
    _print_inspection(summary)


def require_template_file(path: Path) -> None:
    """Commands that read one template refuse a missing path or a directory (exit 2)."""
    if path.is_dir():
        raise UsageError(
            f"{path}: is a directory; this command reads one template file",
            hint="name one template file (*.yaml or *.yml) inside it",
        )
    if not path.exists():
        raise UsageError(f"{path}: no such file or directory", hint="name a template file")


def _print_inspection(summary: dict[str, Any]) -> None:
    arrow = " → "
    print(f"Template: {summary['name']}")
    print(f"  Namespace: {summary['namespace']}")
    print(f"  Version: {summary['version']}")
    if summary["description"]:
        print(f"  Description: {summary['description']}")
    print(f"  Steps: {summary['step_count']}")
    print(f"  Input schema: {'yes' if summary['has_input_schema'] else 'no'}")
    print(f"  Roots: {', '.join(summary['root_steps'])}")
    print(f"  Leaves: {', '.join(summary['leaf_steps'])}")
    print(f"  Execution order: {arrow.join(summary['execution_order'])}")
    print(f"  Parallel levels: {len(summary['parallel_levels'])}")
    for number, level in enumerate(summary["parallel_levels"], start=1):
        print(f"    {number}. {', '.join(level)}")
    path = summary["critical_path"]
    print(f"  Critical path: {summary['critical_path_length']} steps: {arrow.join(path)}")


def _configured_template_paths() -> list[Path]:
    """``template-paths``, ``TASKER_TEMPLATE_PATH``, then ./templates, ./config/tasker/templates."""
    from tasker_ctl.cli.options import project_config
    from tasker_ctl.config import template_search_path

    existing = [path for path in template_search_path([], project_config()) if path.is_dir()]
    if not existing:
        raise UsageError(
            "no template paths to lint: none configured, and no ./templates or "
            "./config/tasker/templates here",
            hint="pass template files or directories, or set template-paths in .tasker-ctl.toml",
        )
    return existing
