"""``template validate --profile``: each template compared with what a Tasker server has
registered (the fake server, every request checked against the OpenAPI document), in text, JSON
and GitHub annotations, through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_tasker_server import API_KEY, FakeTasker
from typer.testing import CliRunner, Result

from tasker_ctl.cli import app

STEPS = [("fetch", []), ("store", ["fetch"])]
RETRY = {"fetch": (True, 3), "store": (True, 3)}


def template_text(version: str) -> str:
    return f"""\
name: order
namespace_name: shop
version: "{version}"
steps:
  - name: fetch
    handler: {{callable: handlers.fetch}}
    retry: {{retryable: true, max_attempts: 3}}
  - name: store
    handler: {{callable: handlers.store}}
    dependencies: [fetch]
    retry: {{retryable: true, max_attempts: 3}}
"""


@pytest.fixture
def fake() -> Iterator[FakeTasker]:
    server = FakeTasker()
    server.start()
    server.add_template("shop", "order", "1.0.0", STEPS, retry=RETRY)
    server.add_template("shop", "order", "2.0.0", STEPS[:1], retry=RETRY)
    yield server
    server.stop()
    assert server.violations == [], "\n".join(server.violations)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeTasker) -> Path:
    """Templates v1 (registered, the same), v2 (registered, differs), v3 (not registered) and a
    broken file; a profile on the fake server."""
    monkeypatch.chdir(tmp_path)
    for variable in ("TASKER_API_KEY", "TASKER_AUTH_TOKEN", "TASKER_ORCHESTRATION_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("TASKER_ORCHESTRATION_AUTH_TOKEN", raising=False)
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "tasker.toml").write_text(
        f"""
[profile.fake.orchestration]
base_url = "{fake.base_url}"

[profile.fake.orchestration.auth]
method = {{ type = "ApiKey", value = {{ key = "{API_KEY}" }} }}
"""
    )
    templates = tmp_path / "templates"
    templates.mkdir()
    for version in ("1.0.0", "2.0.0", "3.0.0"):
        (templates / f"order_v{version[0]}.yaml").write_text(template_text(version))
    (templates / "zz_broken.yaml").write_text("name: broken\nnamespace_name: shop\nsteps: []\n")
    return tmp_path


def validate(*args: str, env: dict[str, str] | None = None) -> Result:
    """``template validate`` of ARGS, else of templates/ (when ARGS are only options)."""
    paths = [] if args and not args[0].startswith("-") else ["templates"]
    return CliRunner().invoke(app, ["template", "validate", *paths, *args], env=env)


def test_text_says_registered_differing_missing_and_what_cannot_be_compared(
    fake: FakeTasker, project: Path
) -> None:
    result = validate("--profile", "fake")
    assert result.exit_code == 1  # the broken file
    server_part = result.stdout[result.stdout.index("\nOn the server") + 1 :]
    assert server_part == (
        f"On the server of profile 'fake' ({fake.base_url}):\n"
        "  ✓ shop/order v1.0.0 (templates/order_v1.yaml): registered, the same steps, "
        "retryable and max_attempts\n"
        "    cannot compare dependencies and handlers: the server's template detail does not "
        "carry them\n"
        "  ✗ shop/order v2.0.0 (templates/order_v2.yaml): the server's copy differs:\n"
        "      step 'store' is not in the server's copy\n"
        "    cannot compare dependencies and handlers: the server's template detail does not "
        "carry them\n"
        "  ✗ shop/order v3.0.0 (templates/order_v3.yaml): not registered on the server\n"
        "  - templates/zz_broken.yaml: not compared (fix its errors first)\n"
    )
    assert [call.path for call in fake.calls("get_template")] == [
        "/v1/templates/shop/order/1.0.0",
        "/v1/templates/shop/order/2.0.0",
        "/v1/templates/shop/order/3.0.0",
    ]


def test_compared_in_full_when_the_server_sends_the_template(
    fake: FakeTasker, project: Path
) -> None:
    fake.templates.clear()
    fake.add_template("shop", "order", "1.0.0", [("fetch", []), ("store", [])],
                      retry=RETRY, with_configuration=True)  # fmt: skip
    result = validate("templates/order_v1.yaml", "--profile", "fake")
    assert result.exit_code == 0, result.output  # differences are warnings
    assert result.stdout.endswith(
        "  ✗ shop/order v1.0.0 (templates/order_v1.yaml): the server's copy differs:\n"
        "      step 'store': depends on fetch here, nothing there\n"
    )
    assert validate("templates/order_v1.yaml", "--profile", "fake", "--strict").exit_code == 1


def test_json_and_github(fake: FakeTasker, project: Path) -> None:
    document = json.loads(validate("--profile", "fake", "--format", "json").stdout)
    server = document["server"]
    assert (server["profile"], server["base_url"]) == ("fake", fake.base_url)
    assert server["not_checked"] == ["templates/zz_broken.yaml"]
    assert [
        (t["version"], t["registered"], t["differences"], t["not_compared"])
        for t in server["templates"]
    ] == [
        ("1.0.0", True, [], ["dependencies", "handlers"]),
        ("2.0.0", True, ["step 'store' is not in the server's copy"], ["dependencies", "handlers"]),
        ("3.0.0", False, [], []),
    ]
    lines = validate("--profile", "fake", "--format", "github").stdout.splitlines()
    cannot = (
        "cannot compare dependencies and handlers: the server's template detail does not carry them"
    )
    assert [line for line in lines if "title=SERVER" in line or "title=NOT_ON" in line] == [
        f"::notice file=templates/order_v1.yaml,title=SERVER_NOT_COMPARED::{cannot}",
        "::warning file=templates/order_v2.yaml,title=SERVER_COPY_DIFFERS::shop/order v2.0.0 "
        "differs on the server (fake): step 'store' is not in the server's copy",
        f"::notice file=templates/order_v2.yaml,title=SERVER_NOT_COMPARED::{cannot}",
        "::warning file=templates/order_v3.yaml,title=NOT_ON_SERVER::shop/order v3.0.0 is not "
        "registered on the server of profile 'fake'",
    ]


def test_the_global_profile_applies_the_environment_variable_does_not(
    fake: FakeTasker, project: Path
) -> None:
    globally = CliRunner().invoke(app, ["-p", "fake", "template", "validate", "templates"])
    assert "On the server of profile 'fake'" in globally.stdout
    by_env = validate(env={"TASKER_CLIENT_PROFILE": "fake"})
    assert "On the server" not in by_env.stdout
    assert fake.calls("get_template") and len(fake.calls("get_template")) == 3


def test_a_server_that_is_down_is_an_error(project: Path) -> None:
    (project / ".config" / "tasker.toml").write_text(
        '[profile.down.orchestration]\nbase_url = "http://127.0.0.1:9"\nmax_retries = 0\n'
    )
    result = validate("--profile", "down")
    assert result.exit_code == 69
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
