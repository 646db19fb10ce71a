"""``profile`` commands: list the connection profiles, show one, check one against its server.

Credentials are never printed: ``show`` says how a profile authenticates, not with what.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tasker_ctl.cli import console
from tasker_ctl.cli.options import FormatOption, OutputFormat, print_json

if TYPE_CHECKING:
    from tasker_ctl.remote.profiles import Profile

NameArgument = Annotated[
    str | None,
    typer.Argument(
        help="Profile name (default: the selected one, else default).", show_default=False
    ),
]


def _label(name: str, value: object, indent: str = "  ") -> None:
    print(f"{indent}{name}: {'-' if value is None else value}")


def _chosen(name: str | None) -> str:
    from tasker_ctl.cli.backend import profile_name

    return name or profile_name() or "default"


def list_profiles(output_format: FormatOption = OutputFormat.TEXT) -> None:
    """List the profiles of the profile file in use, and where it is.

    Example: tasker-ctl profile list
    """
    from tasker_ctl.cli.backend import profile_name
    from tasker_ctl.remote.profiles import display_url
    from tasker_ctl.remote.profiles import list_profiles as find_profiles

    path, profiles = find_profiles()
    active = profile_name()
    if output_format is OutputFormat.JSON:
        print_json(
            {
                "file": None if path is None else str(path),
                "active": active,
                "profiles": [profile.to_json() for profile in profiles],
            }
        )
        return
    print(f"Profiles ({path if path is not None else 'no profile file: built-in default'})")
    for profile in profiles:
        print(f"  {profile.name}{' *' if profile.name == active else ''}")
        if profile.description:
            print(f"    {profile.description}")
        _label("Transport", profile.transport, "    ")
        _label("Orchestration", display_url(profile.base_url), "    ")
    if active is None:
        print(
            "No profile selected: task commands use the local store (--profile NAME selects one)."
        )
    else:
        print("  * = active profile")


def show(name: NameArgument = None, output_format: FormatOption = OutputFormat.TEXT) -> None:
    """Show a profile as resolved (file, the default profile, environment), credentials masked.

    Example: tasker-ctl profile show staging
    """
    from tasker_ctl.remote.profiles import load_profile

    profile = load_profile(_chosen(name))
    if output_format is OutputFormat.JSON:
        print_json(profile.to_json())
        return
    _print_profile(profile)


def _print_profile(profile: Profile) -> None:
    from tasker_ctl.remote.profiles import display_url

    print(f"Profile: {profile.name}")
    _label("File", profile.where)
    if profile.description:
        _label("Description", profile.description)
    _label("Transport", profile.transport)
    print("  Orchestration:")
    _label("URL", display_url(profile.base_url), "    ")
    _label("Timeout", f"{profile.timeout_ms}ms", "    ")
    _label("Max retries", profile.max_retries, "    ")
    _label("Auth", "none" if profile.auth is None else profile.auth.describe(), "    ")
    if profile.namespaces:
        _label("Namespaces", ", ".join(profile.namespaces))


def check(name: NameArgument = None, output_format: FormatOption = OutputFormat.TEXT) -> None:
    """Probe the profile's server: ``/health`` (no credentials needed), then one authenticated
    read (``GET /v1/tasks``), which tells a wrong or missing key.

    Example: tasker-ctl profile check staging
    """
    from tasker_ctl.remote import contract
    from tasker_ctl.remote.client import ServerClient
    from tasker_ctl.remote.profiles import display_url, load_profile

    profile = load_profile(_chosen(name))
    read = contract.operation("list_tasks")
    with ServerClient(profile) as client:
        health = client.call("basic_health")
        client.call("list_tasks", query={"page": 1, "per_page": 1})
    if output_format is OutputFormat.JSON:
        print_json(
            {
                "profile": profile.name,
                "url": display_url(profile.base_url),
                "health": health["status"],
                "authenticated_read": f"{read.method} {read.path}",
                "permission": read.permission,
                "ok": True,
            }
        )
        return
    print(f"Checking profile '{profile.name}' ({display_url(profile.base_url)})")
    console.success(f"Orchestration: reachable (/health: {health['status']})")
    console.success(f"Authenticated read: {read.method} {read.path} ({read.permission})")
    console.success(f"Profile '{profile.name}' is healthy.")
