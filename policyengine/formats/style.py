"""Colour on a terminal only: NO_COLOR turns it off, FORCE_COLOR on."""

from __future__ import annotations

import os
from typing import IO

from ..constants import ENV_FORCE_COLOR, ENV_NO_COLOR

_CODES = {"red": 31, "yellow": 33, "blue": 34, "cyan": 36, "green": 32, "bold": 1, "dim": 2}


def use_colour(stream: IO[str]) -> bool:
    """Whether to colour output written to ``stream``."""
    if os.environ.get(ENV_NO_COLOR):
        return False
    if os.environ.get(ENV_FORCE_COLOR):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


class Style:
    """Applies ANSI styles, or nothing when colour is off."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, *styles: str) -> str:
        """``text`` in the given styles (red, yellow, blue, cyan, green, bold, dim)."""
        if not self.colour or not styles:
            return text
        codes = ";".join(str(_CODES[s]) for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"
