"""Finding templates by their header: the header read cheaply, the same as a full load would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasker_ctl.errors import NotFoundError
from tasker_ctl.template.lookup import find_template, read_header

HEADER = {"name": "order", "namespace_name": "shop", "version": "1.2.0"}


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "text",
    [
        "name: order\nnamespace_name: shop\nversion: 1.2.0\nsteps: []\n",
        "description: x\nname: 'order'   # comment\nnamespace_name: \"shop\"\nversion: 1.2.0\n",
        json.dumps({**HEADER, "steps": [{"name": "a"}]}, indent=1),
        json.dumps({"steps": [{"name": "a", "version": "9"}], **HEADER}),
        '{"name": "order", "namespace_name": "shop", "version": "1.2.0", "steps": [',
        "{name: &n order, namespace_name: shop, version: 1.2.0}",
        "{<<: {name: order, namespace_name: shop}, version: 1.2.0}",
    ],
    ids=[
        "block",
        "quoted",
        "json",
        "json-keys-last",
        "json-broken-after-header",
        "anchor",
        "merge",
    ],
)
def test_the_header_is_read_in_every_style(tmp_path: Path, text: str) -> None:
    assert read_header(_write(tmp_path, "t.yaml", text)) == HEADER


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{name: order, namespace_name: shop, version: 1.10}", "1.1"),  # as a full load reads it
        ("{name: order, namespace_name: shop, version: 2}", "2"),
    ],
)
def test_numeric_versions_read_as_a_full_load_would(
    tmp_path: Path, text: str, expected: str
) -> None:
    header = read_header(_write(tmp_path, "t.yaml", text))

    assert header is not None
    assert header["version"] == expected


@pytest.mark.parametrize(
    "text",
    [
        "{name: order, version: 1.0.0}",
        "{name: order, namespace_name: true, version: 1.0.0}",
        "{name: order, namespace_name: shop, version: }",
        "{name: order, namespace_name: [shop], version: 1.0.0}",
        "{name: order, namespace_name: shop, version: 2025-13-45}",
        "name: order\nnamespace_name: shop\nversion: 2025-13-45\n",
        "[name, namespace_name, version]",
        "{name: order, namespace_name: shop",
        "",
    ],
)
def test_files_without_a_usable_header_are_skipped(tmp_path: Path, text: str) -> None:
    assert read_header(_write(tmp_path, "t.yaml", text)) is None


def test_the_highest_release_wins_and_a_version_can_be_asked_for(tmp_path: Path) -> None:
    for version in ("1.2.0", "1.10.0", "2.0.0-rc.1"):
        _write(tmp_path, f"v{version}.yaml", json.dumps({**HEADER, "version": version}))

    assert find_template([tmp_path], "shop", "order").version == "1.10.0"
    assert find_template([tmp_path], "shop", "order", "2.0.0-rc.1").version == "2.0.0-rc.1"
    with pytest.raises(NotFoundError, match=r"versions available: 1\.2\.0, 1\.10\.0"):
        find_template([tmp_path], "shop", "order", "3.0.0")
    with pytest.raises(NotFoundError, match="did you mean"):
        find_template([tmp_path], "shop", "ordr")
