"""Validation reports as JSON and as GitHub Actions annotations."""

from __future__ import annotations

from pathlib import Path

from tasker_ctl.template.findings import FileReport, Finding, Severity
from tasker_ctl.template.output import github_annotations, reports_to_json, shown

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

BROKEN = FileReport(
    path=Path("dir/broken.yaml"),
    findings=[
        Finding("NO_RESULT_SCHEMA", INFO, "Step 'a' has no result_schema defined", "a", 5),
        Finding("ORPHAN_STEP", WARNING, "Step 'a' has no dependencies and nothing…", "a", 5),
        Finding("YAML_PARSE_ERROR", ERROR, "file is empty", None, None),
    ],
    step_count=2,
)
FINE = FileReport(path=Path("fine.yaml"), findings=[BROKEN.findings[0]], step_count=1)


def test_json_shape_is_exact() -> None:
    document = reports_to_json([BROKEN, FINE], INFO)

    assert document == {
        "valid": False,
        "files": [
            {
                "path": "dir/broken.yaml",
                "valid": False,
                "findings": [
                    {
                        "code": "NO_RESULT_SCHEMA",
                        "severity": "info",
                        "message": "Step 'a' has no result_schema defined",
                        "step": "a",
                        "line": 5,
                    },
                    {
                        "code": "ORPHAN_STEP",
                        "severity": "warning",
                        "message": "Step 'a' has no dependencies and nothing…",
                        "step": "a",
                        "line": 5,
                    },
                    {
                        "code": "YAML_PARSE_ERROR",
                        "severity": "error",
                        "message": "file is empty",
                        "step": None,
                        "line": None,
                    },
                ],
                "step_count": 2,
                "has_cycles": False,
            },
            {
                "path": "fine.yaml",
                "valid": True,
                "findings": [document["files"][0]["findings"][0]],
                "step_count": 1,
                "has_cycles": False,
            },
        ],
    }


def test_json_validity_counts_findings_that_are_not_shown() -> None:
    document = reports_to_json([BROKEN], ERROR)

    assert [f["code"] for f in document["files"][0]["findings"]] == ["YAML_PARSE_ERROR"]
    assert reports_to_json([BROKEN], ERROR)["valid"] is False
    assert reports_to_json([FINE], ERROR) == {
        "valid": True,
        "files": [
            {
                "path": "fine.yaml",
                "valid": True,
                "findings": [],
                "step_count": 1,
                "has_cycles": False,
            }
        ],
    }


def test_shown_filters_by_minimum_severity() -> None:
    assert [f.code for f in shown(BROKEN.findings, WARNING)] == ["ORPHAN_STEP", "YAML_PARSE_ERROR"]
    assert len(shown(BROKEN.findings, INFO)) == 3


def test_github_annotations_use_the_severity_command_and_omit_an_unknown_line() -> None:
    assert github_annotations([BROKEN], INFO) == [
        "::notice file=dir/broken.yaml,line=5,title=NO_RESULT_SCHEMA::"
        "Step 'a' has no result_schema defined",
        "::warning file=dir/broken.yaml,line=5,title=ORPHAN_STEP::"
        "Step 'a' has no dependencies and nothing…",
        "::error file=dir/broken.yaml,title=YAML_PARSE_ERROR::file is empty",
    ]


def test_github_annotations_escape_data_and_properties() -> None:
    report = FileReport(
        path=Path("odd,name:1.yaml"),
        findings=[Finding("X", ERROR, "100% broken\nsecond line\r", None, 3)],
    )

    assert github_annotations([report], INFO) == [
        "::error file=odd%2Cname%3A1.yaml,line=3,title=X::100%25 broken%0Asecond line%0D"
    ]


def test_report_validity_and_counts() -> None:
    assert not BROKEN.valid
    assert FINE.valid
    assert (BROKEN.count(ERROR), BROKEN.count(WARNING), BROKEN.count(INFO)) == (1, 1, 1)
    assert BROKEN.first_error() is BROKEN.findings[2]
    assert FINE.first_error() is None
