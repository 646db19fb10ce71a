"""The four case filters scaffold templates use: ``snake_case``, ``pascal_case``, ``camel_case``
and ``kebab_case``.

They reproduce the word splitting of the reference CLI (Rust ``heck``), so that a contrib plugin
renders the same file names here as there:

* words split on every character that is not a letter or a digit;
* a new word starts at an uppercase letter that follows a lowercase one, even with digits in
  between (``Step2Handler`` → ``step2``, ``handler``);
* a new word starts at the last capital of an acronym followed by a lowercase letter
  (``HTTPServer`` → ``http``, ``server``);
* digits stay with the word before them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SEPARATORS = re.compile(r"[\W_]+")


def split_words(text: str) -> list[str]:
    """Split ``text`` into words by the rules in the module docstring."""
    words: list[str] = []
    for chunk in _SEPARATORS.split(text):
        if not chunk:
            continue
        start = 0
        previous_case: str | None = None  # case of the last letter seen; digits leave it alone
        for index, char in enumerate(chunk):
            if char.isupper():
                following = chunk[index + 1 : index + 2]
                ends_acronym = previous_case == "upper" and following.islower()
                if (previous_case == "lower" or ends_acronym) and index > start:
                    words.append(chunk[start:index])
                    start = index
                previous_case = "upper"
            elif char.islower():
                previous_case = "lower"
        words.append(chunk[start:])
    return words


def _capitalized(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def _require_string(filter_name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{filter_name} filter expects a string, not {type(value).__name__}")
    return value


def snake_case(value: object) -> str:
    """``ProcessPayment`` → ``process_payment``."""
    return "_".join(word.lower() for word in split_words(_require_string("snake_case", value)))


def kebab_case(value: object) -> str:
    """``ProcessPayment`` → ``process-payment``."""
    return "-".join(word.lower() for word in split_words(_require_string("kebab_case", value)))


def pascal_case(value: object) -> str:
    """``process_payment`` → ``ProcessPayment``; acronyms are not kept (``HttpServer``)."""
    return "".join(
        _capitalized(word) for word in split_words(_require_string("pascal_case", value))
    )


def camel_case(value: object) -> str:
    """``process_payment`` → ``processPayment``."""
    words = split_words(_require_string("camel_case", value))
    if not words:
        return ""
    return words[0].lower() + "".join(_capitalized(word) for word in words[1:])


CASE_FILTERS: dict[str, Callable[[object], str]] = {
    "snake_case": snake_case,
    "pascal_case": pascal_case,
    "camel_case": camel_case,
    "kebab_case": kebab_case,
}
