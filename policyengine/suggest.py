"""Did-you-mean suggestions for misspelt words."""

from __future__ import annotations

from collections.abc import Iterable


def closest(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The choices nearest to ``word``, best first (case-insensitive)."""
    import difflib

    by_lower: dict[str, str] = {}
    for choice in choices:
        by_lower.setdefault(choice.lower(), choice)
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=n, cutoff=0.6)
    return [by_lower[f] for f in found]


def did_you_mean(word: str, choices: Iterable[str], fallback: str | None = None) -> str | None:
    """A hint such as "did you mean `deprecated`?", or ``fallback`` when nothing is close."""
    found = closest(word, choices)
    if not found:
        return fallback
    if len(found) == 1:
        return f"did you mean `{found[0]}`?"
    return "did you mean " + ", ".join(f"`{f}`" for f in found[:-1]) + f" or `{found[-1]}`?"


def one_of(choices: Iterable[str]) -> str:
    """Write the choices as `a`, `b` or `c`."""
    items = [f"`{c}`" for c in choices]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
