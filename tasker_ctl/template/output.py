"""Validation reports as JSON documents and as GitHub Actions annotations.

The JSON shape is fixed: ``{"valid", "files": [{"path", "valid", "findings", "step_count",
"has_cycles"}]}`` with each finding ``{"code", "severity", "message", "step", "line"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tasker_ctl.template.findings import FileReport, Finding, Severity

_ANNOTATION_COMMAND = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
}


def shown(findings: Sequence[Finding], minimum: Severity) -> list[Finding]:
    """The findings at least as severe as ``minimum``."""
    return [f for f in findings if f.severity.rank >= minimum.rank]


def reports_to_json(reports: Sequence[FileReport], minimum: Severity) -> dict[str, Any]:
    """The whole run as one JSON document; ``valid`` counts every finding, shown or not."""
    files = []
    for report in reports:
        entry = report.to_json(str(report.path))
        entry["findings"] = [f.to_json() for f in shown(report.findings, minimum)]
        files.append(entry)
    return {"valid": all(r.valid for r in reports), "files": files}


def github_annotations(reports: Sequence[FileReport], minimum: Severity) -> list[str]:
    """One ``::error file=…,line=…,title=CODE::message`` line per finding."""
    lines = []
    for report in reports:
        for finding in shown(report.findings, minimum):
            properties = [f"file={_escape_property(str(report.path))}"]
            if finding.line is not None:
                properties.append(f"line={finding.line}")
            properties.append(f"title={_escape_property(finding.code)}")
            command = _ANNOTATION_COMMAND[finding.severity]
            lines.append(f"::{command} {','.join(properties)}::{_escape_data(finding.message)}")
    return lines


def annotation(command: str, file: str, title: str, message: str) -> str:
    """One GitHub Actions annotation line (``command``: error, warning or notice) on a file."""
    properties = f"file={_escape_property(file)},title={_escape_property(title)}"
    return f"::{command} {properties}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
