"""``template validate --profile``: the promote check of each template, as text, JSON and GitHub
annotations. The check itself is :func:`tasker_ctl.remote.templates.compare_template`.

A template the server does not have, or whose copy differs in what could be compared, is a
warning (``--strict`` fails on it); what could not be compared is said, never passed over.
Files with errors are not checked (their template cannot be loaded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tasker_ctl.remote.templates import PromoteReport

if TYPE_CHECKING:
    from tasker_ctl.store.records import JsonObject
    from tasker_ctl.template.findings import FileReport


@dataclass(frozen=True)
class PromoteCheck:
    """The promote check of one ``template validate`` run against one profile's server."""

    profile: str
    base_url: str
    reports: tuple[PromoteReport, ...]
    not_checked: tuple[Path, ...]
    """Files with errors: their templates were not compared."""

    @property
    def warnings(self) -> int:
        """Templates not registered or differing: what ``--strict`` fails on."""
        return sum(1 for report in self.reports if not report.same)

    def to_json(self) -> JsonObject:
        """``{"profile", "base_url", "templates": [...], "not_checked": [paths]}``."""
        return {
            "profile": self.profile,
            "base_url": self.base_url,
            "templates": [report.to_json() for report in self.reports],
            "not_checked": [str(path) for path in self.not_checked],
        }

    def text_lines(self) -> list[str]:
        """A heading, then per template whether it is registered and the same, what differs,
        and what could not be compared."""
        lines = [f"On the server of profile '{self.profile}' ({self.base_url}):"]
        for report in self.reports:
            lines.extend(f"  {line}" for line in _report_lines(report))
        for path in self.not_checked:
            lines.append(f"  - {path}: not compared (fix its errors first)")
        return lines

    def annotations(self) -> list[str]:
        """``::warning`` for a template not registered or differing, ``::notice`` for what
        could not be compared."""
        from tasker_ctl.template.output import annotation

        lines = []
        for report in self.reports:
            file = str(report.path)
            if not report.registered:
                lines.append(annotation("warning", file, "NOT_ON_SERVER", _missing(report, self)))
                continue
            for difference in report.differences:
                message = f"{report.label} differs on the server ({self.profile}): {difference}"
                lines.append(annotation("warning", file, "SERVER_COPY_DIFFERS", message))
            if report.not_compared:
                lines.append(annotation("notice", file, "SERVER_NOT_COMPARED", _cannot(report)))
        return lines


def _report_lines(report: PromoteReport) -> list[str]:
    where = f"{report.label} ({report.path})"
    if not report.registered:
        return [f"✗ {where}: not registered on the server"]
    if report.differences:
        lines = [f"✗ {where}: the server's copy differs:"]
        lines.extend(f"    {difference}" for difference in report.differences)
    else:
        lines = [f"✓ {where}: registered, the same {_names(report.compared)}"]
    if report.not_compared:
        lines.append(f"  {_cannot(report)}")
    return lines


def _missing(report: PromoteReport, check: PromoteCheck) -> str:
    return f"{report.label} is not registered on the server of profile '{check.profile}'"


def _cannot(report: PromoteReport) -> str:
    return (
        f"cannot compare {_names(report.not_compared)}: the server's template detail does not "
        "carry them"
    )


def _names(names: Sequence[str]) -> str:
    listed = list(names)
    return listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]


def check_against_server(profile_name: str, linted: Sequence[FileReport]) -> PromoteCheck:
    """Compare each valid template of ``linted`` with what profile ``profile_name``'s server has.

    The lint has already loaded each valid file's template: it is compared as loaded, not read
    and validated a second time.
    """
    from tasker_ctl.remote.client import ServerClient
    from tasker_ctl.remote.profiles import load_profile
    from tasker_ctl.remote.templates import compare_template

    profile = load_profile(profile_name)
    client = ServerClient(profile)
    try:
        reports = [
            compare_template(client, report.template, report.path)
            for report in linted
            if report.valid and report.template is not None
        ]
    finally:
        client.close()
    return PromoteCheck(
        profile=profile.name,
        base_url=profile.base_url,
        reports=tuple(reports),
        not_checked=tuple(report.path for report in linted if not report.valid),
    )
