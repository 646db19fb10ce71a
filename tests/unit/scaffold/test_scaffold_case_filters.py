"""The case filters convert names exactly as the reference CLI does (its §9.3 table)."""

from __future__ import annotations

import pytest

from tasker_ctl.scaffold.case import (
    camel_case,
    kebab_case,
    pascal_case,
    snake_case,
    split_words,
)

TABLE = [
    # input, snake, pascal, camel, kebab
    ("ProcessPayment", "process_payment", "ProcessPayment", "processPayment", "process-payment"),
    ("process_payment", "process_payment", "ProcessPayment", "processPayment", "process-payment"),
    ("process-payment", "process_payment", "ProcessPayment", "processPayment", "process-payment"),
    ("process payment", "process_payment", "ProcessPayment", "processPayment", "process-payment"),
    ("HTTPServer", "http_server", "HttpServer", "httpServer", "http-server"),
    ("Step2Handler", "step2_handler", "Step2Handler", "step2Handler", "step2-handler"),
]


@pytest.mark.parametrize(("text", "snake", "pascal", "camel", "kebab"), TABLE)
def test_reference_conversions(text: str, snake: str, pascal: str, camel: str, kebab: str) -> None:
    assert snake_case(text) == snake
    assert pascal_case(text) == pascal
    assert camel_case(text) == camel
    assert kebab_case(text) == kebab


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("getHTTPResponseCode", ["get", "HTTP", "Response", "Code"]),
        ("a2B", ["a2", "B"]),
        ("  --leading__and  trailing--  ", ["leading", "and", "trailing"]),
        ("ABC", ["ABC"]),
        ("", []),
    ],
)
def test_word_splitting(text: str, words: list[str]) -> None:
    assert split_words(text) == words


def test_path_characters_are_separators() -> None:
    assert snake_case("../../evil") == "evil"


def test_a_non_string_is_rejected() -> None:
    with pytest.raises(TypeError, match="snake_case filter expects a string"):
        snake_case(42)
