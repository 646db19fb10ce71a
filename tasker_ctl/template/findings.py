"""What the validator reports: findings with a code, a severity and a place, grouped per file."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from tasker_ctl.template.models import TaskTemplate


class Severity(StrEnum):
    """How bad a finding is; only ``error`` makes a template invalid."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """2 for error, 1 for warning, 0 for info: for "at least this severe" filters."""
        return {Severity.ERROR: 2, Severity.WARNING: 1, Severity.INFO: 0}[self]


@dataclass(frozen=True)
class Finding:
    """One problem (or remark) about a template, at a line when one is known."""

    code: str
    severity: Severity
    message: str
    step: str | None = None
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The reference's finding shape plus ``line``."""
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "step": self.step,
            "line": self.line,
        }


@dataclass
class FileReport:
    """Everything found in one file; ``template`` is set when the file parsed as a template."""

    path: Path
    findings: list[Finding] = field(default_factory=list)
    step_count: int = 0
    has_cycles: bool = False
    template: TaskTemplate | None = None

    @property
    def valid(self) -> bool:
        """True exactly when no finding is an error (the reference's rule)."""
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def count(self, severity: Severity) -> int:
        """How many findings have ``severity``."""
        return sum(1 for f in self.findings if f.severity is severity)

    def first_error(self) -> Finding | None:
        """The first error finding, if any."""
        return next((f for f in self.findings if f.severity is Severity.ERROR), None)

    def to_json(self, display_path: str) -> dict[str, Any]:
        """``{"path", "valid", "findings", "step_count", "has_cycles"}``."""
        return {
            "path": display_path,
            "valid": self.valid,
            "findings": [f.to_json() for f in self.findings],
            "step_count": self.step_count,
            "has_cycles": self.has_cycles,
        }
