"""Connection profiles: the files searched, the layering, environment overrides, masking."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tasker_ctl.errors import EXIT_NOT_FOUND, EXIT_USAGE, TaskerCtlError
from tasker_ctl.remote.profiles import (
    find_profile_file,
    list_profiles,
    load_profile,
    selected_profile_name,
)

UNIFIED = """
[profile.default]
transport = "rest"
description = "Local development"

[profile.default.orchestration]
base_url = "http://localhost:8080"
timeout_ms = 10000
max_retries = 1

[profile.staging]
description = "Staging"
namespaces = ["billing"]

[profile.staging.orchestration]
base_url = "https://staging.example.com:8080/"

[profile.staging.orchestration.auth]
method = { type = "ApiKey", value = { key = "staging-secret", header_name = "X-Tasker-Key" } }

[profile.token.orchestration.auth]
method = { type = "BearerToken", value = "token-secret" }

[cli]
default-language = "python"
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    _write(tmp_path / "project" / ".config" / "tasker.toml", UNIFIED)
    return tmp_path / "project"


def test_a_named_profile_layers_over_default(project: Path) -> None:
    staging = load_profile("staging", start=project, home=project / "home", environ={})
    assert staging.base_url == "https://staging.example.com:8080"  # trailing slash dropped
    assert staging.timeout_ms == 10000 and staging.max_retries == 1  # from [profile.default]
    assert staging.description == "Staging" and staging.namespaces == ("billing",)
    assert staging.auth is not None
    assert staging.auth.headers() == {"X-Tasker-Key": "staging-secret"}
    token = load_profile("token", start=project, home=project / "home", environ={})
    assert token.auth is not None
    assert token.auth.headers() == {"Authorization": "Bearer token-secret"}


def test_the_credential_never_shows(project: Path) -> None:
    staging = load_profile("staging", start=project, home=project / "home", environ={})
    shown = (
        repr(staging) + str(staging.to_json()) + (staging.auth.describe() if staging.auth else "")
    )
    assert "staging-secret" not in shown
    assert "X-Tasker-Key" in shown


def test_the_file_is_found_from_a_subdirectory(project: Path) -> None:
    deep = project / "src" / "pkg"
    deep.mkdir(parents=True)
    assert (
        find_profile_file(deep, home=project / "home", environ={})
        == (project / ".config" / "tasker.toml").resolve()
    )


def test_search_order_first_found_wins(tmp_path: Path) -> None:
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    assert find_profile_file(work, home=home, environ={}) is None
    legacy_home = _write(home / ".tasker" / "client.toml", "[profile.default]\n")
    assert find_profile_file(work, home=home, environ={}) == legacy_home
    user = _write(home / ".config" / "tasker" / "client.toml", "[profile.default]\n")
    assert find_profile_file(work, home=home, environ={}) == user
    local = _write(work / "tasker-client.toml", "[profile.default]\n")
    assert find_profile_file(work, home=home, environ={}) == local.resolve()
    legacy = _write(work / ".config" / "tasker-client.toml", "[profile.default]\n")
    assert find_profile_file(work, home=home, environ={}) == legacy.resolve()
    unified = _write(work / ".config" / "tasker.toml", "[profile.default]\n")
    assert find_profile_file(work, home=home, environ={}) == unified.resolve()


def test_environment_variables_win(project: Path) -> None:
    env = {
        "TASKER_ORCHESTRATION_URL": "http://override:9999",
        "TASKER_ORCHESTRATION_TIMEOUT_MS": "500",
        "TASKER_API_KEY": "env-key",
    }
    staging = load_profile("staging", start=project, home=project / "home", environ=env)
    assert (staging.base_url, staging.timeout_ms) == ("http://override:9999", 500)
    assert staging.auth is not None and staging.auth.headers() == {"X-API-Key": "env-key"}
    assert staging.auth.source == "TASKER_API_KEY"
    env["TASKER_AUTH_TOKEN"] = "global"
    with_token = load_profile("staging", start=project, home=project / "home", environ=env)
    assert with_token.auth is not None
    assert with_token.auth.headers() == {"Authorization": "Bearer global"}
    env["TASKER_ORCHESTRATION_AUTH_TOKEN"] = "orchestration"
    specific = load_profile("staging", start=project, home=project / "home", environ=env)
    assert specific.auth is not None
    assert specific.auth.headers() == {"Authorization": "Bearer orchestration"}


def test_default_needs_no_file_but_other_names_do(tmp_path: Path) -> None:
    default = load_profile("default", start=tmp_path, home=tmp_path / "home", environ={})
    assert (default.base_url, default.timeout_ms, default.max_retries) == (
        "http://localhost:8080",
        30000,
        3,
    )
    with pytest.raises(TaskerCtlError) as caught:
        load_profile("staging", start=tmp_path, home=tmp_path / "home", environ={})
    assert caught.value.exit_code == EXIT_NOT_FOUND


def test_an_unknown_profile_names_the_known_ones(project: Path) -> None:
    with pytest.raises(TaskerCtlError) as caught:
        load_profile("stagign", start=project, home=project / "home", environ={})
    assert caught.value.exit_code == EXIT_NOT_FOUND
    assert "did you mean 'staging'" in caught.value.message
    assert "default, staging, token" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("orchestration", "fragment"),
    [
        ('base_url = "localhost:8080"', "must start with http"),
        ("timeout_ms = -1", "timeout_ms"),
        ('auth = { method = { type = "Basic", value = "x" } }', "ApiKey or BearerToken"),
    ],
)
def test_bad_settings_are_usage_errors(tmp_path: Path, orchestration: str, fragment: str) -> None:
    _write(tmp_path / ".config" / "tasker.toml", f"[profile.x.orchestration]\n{orchestration}\n")
    with pytest.raises(TaskerCtlError, match=fragment) as caught:
        load_profile("x", start=tmp_path, home=tmp_path / "home", environ={})
    assert caught.value.exit_code == EXIT_USAGE


def test_list_and_selection(project: Path) -> None:
    path, profiles = list_profiles(start=project, home=project / "home", environ={})
    assert path is not None and path.name == "tasker.toml"
    assert [p.name for p in profiles] == ["default", "staging", "token"]
    assert selected_profile_name(None, {}) is None
    assert selected_profile_name(None, {"TASKER_CLIENT_PROFILE": "ci"}) == "ci"
    assert selected_profile_name("staging", {"TASKER_CLIENT_PROFILE": "ci"}) == "staging"


def test_a_password_in_the_url_is_masked_in_output(tmp_path: Path) -> None:
    _write(
        tmp_path / ".config" / "tasker.toml",
        '[profile.x.orchestration]\nbase_url = "https://ann:pw-secret@tasker.example.com"\n',
    )
    profile = load_profile("x", start=tmp_path, home=tmp_path / "home", environ={})
    assert "pw-secret" not in str(profile.to_json()) + repr(profile)
    assert profile.to_json()["orchestration"]["base_url"] == "https://****@tasker.example.com"
