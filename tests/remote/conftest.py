"""Fixtures of the server-client tests: the fake Tasker server, a profile on it, the client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_tasker_server import API_KEY, FakeTasker

from tasker_ctl.remote.client import ServerClient
from tasker_ctl.remote.profiles import Auth, Profile
from tasker_ctl.remote.tasks import RemoteTasks

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = REPO_ROOT / "templates"
ORDER_INPUT = json.loads((TEMPLATES / "inputs" / "ecommerce_order.json").read_text())
ECOMMERCE = ("ecommerce", "ecommerce_order_processing", "1.0.0")
# The bundled template's steps, as the fake registers them (its dependencies are the fake's own).
ECOMMERCE_STEPS = [
    ("validate_cart", []),
    ("process_payment", ["validate_cart"]),
    ("update_inventory", ["validate_cart"]),
    ("create_order", ["process_payment", "update_inventory"]),
    ("send_confirmation", ["create_order"]),
]


def _retry_of(path: Path) -> dict[str, tuple[bool, int]]:
    from tasker_ctl.template.validation import load_template

    template = load_template(path)
    return {step.name: (step.retry.retryable, step.retry.max_attempts) for step in template.steps}


ECOMMERCE_RETRY = _retry_of(TEMPLATES / "ecommerce_order_processing.yaml")


@pytest.fixture
def fake() -> Iterator[FakeTasker]:
    """A fake server with the e-commerce template registered; fails the test on any request
    (or answer of its own) that the OpenAPI document does not allow."""
    server = FakeTasker()
    server.start()
    server.add_template(*ECOMMERCE, ECOMMERCE_STEPS, retry=ECOMMERCE_RETRY)
    yield server
    server.stop()
    assert server.violations == [], "requests outside the contract:\n" + "\n".join(
        server.violations
    )


@pytest.fixture
def profile(fake: FakeTasker) -> Profile:
    return Profile(
        name="fake", file=None, base_url=fake.base_url, max_retries=2, auth=Auth("ApiKey", API_KEY)
    )


@pytest.fixture
def remote(profile: Profile) -> Iterator[RemoteTasks]:
    """The server's task operations, templates found in the repository's templates/."""
    client = ServerClient(profile, sleep=lambda _: None)
    yield RemoteTasks(client, search_path=[TEMPLATES])
    client.close()
