"""Diagnostics for people: a header, the source line with the span underlined, hints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import Diagnostic, Severity
from .style import Style

_TAB = "    "
FRAME_WIDTH = 240  # characters of a source line shown around a span; a longer line is cropped


def render(diagnostics: Sequence[Diagnostic], texts: Mapping[str, str], style: Style) -> str:
    """All diagnostics, each with a code frame when its source is known."""
    lines_of: dict[str, list[str]] = {}
    out: list[str] = []
    for d in diagnostics:
        text = texts.get(d.span.file)
        if text is not None and d.span.file not in lines_of:
            lines_of[d.span.file] = text.split("\n")
        out.append(render_one(d, lines_of.get(d.span.file), style))
    return "\n".join(out)


def render_one(d: Diagnostic, lines: Sequence[str] | None, style: Style) -> str:
    """One diagnostic."""
    colour = "red" if d.severity is Severity.ERROR else "yellow"
    s = d.span
    source = f" ({d.source})" if d.source else ""
    head = style(f"{d.severity.value}[{d.code}]", colour, "bold") + style(f": {d.message}{source}", "bold")
    where = f"{s.file}:{s.line}:{s.column}"
    out = [f"{where}: {head}"]
    if lines is not None and 1 <= s.line <= len(lines) and not (s.line == s.end_line == s.column == s.end_column == 1):
        out.extend(_frame(d, lines, style, colour))
    for note in d.notes:
        n = note.span
        out.append(style("   = note: ", "cyan") + f"{n.file}:{n.line}:{n.column}: {note.message}")
    if d.hint:
        out.append(style("   = hint: ", "cyan") + d.hint)
    return "\n".join(out) + "\n"


def _frame(d: Diagnostic, lines: Sequence[str], style: Style, colour: str) -> list[str]:
    s = d.span
    last = min(s.end_line, len(lines))
    shown = range(s.line, last + 1) if last - s.line < 4 else [s.line]
    width = len(str(max(shown)))
    gutter = style(" " * width + " |", "blue")
    out = [gutter]
    for number in shown:
        line = lines[number - 1]
        start = s.column if number == s.line else _indent(line) + 1
        end = s.end_column if number == s.end_line else len(line) + 1
        lo, hi = _window(len(line), start)
        raw = line[lo:hi]
        before, after = ("…" if lo else ""), ("…" if hi < len(line) else "")
        text = before + raw.replace("\t", _TAB) + after
        out.append(style(f"{number:>{width}} |", "blue") + (" " + text if text else ""))
        start_col = _display_column(raw, start - lo) + len(before)
        end_col = max(_display_column(raw, min(end, hi + 1) - lo) + len(before), start_col + 1)
        out.append(gutter + " " + " " * (start_col - 1) + style("^" * (end_col - start_col), colour, "bold"))
    return out


def _window(length: int, start: int) -> tuple[int, int]:
    """The part of a line to show, ``[lo, hi)``: all of it, or ``FRAME_WIDTH`` characters around ``start``."""
    if length <= FRAME_WIDTH:
        return 0, length
    lo = max(0, min(start - 1 - FRAME_WIDTH // 3, length - FRAME_WIDTH))
    return lo, lo + FRAME_WIDTH


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _display_column(raw: str, column: int) -> int:
    """The 1-based display column of a character column, with tabs expanded."""
    prefix = raw[: max(0, column - 1)]
    return len(prefix.replace("\t", _TAB)) + 1 + max(0, column - 1 - len(raw))


def summary(errors: int, warnings: int, files: int, rules: int, style: Style) -> str:
    """The closing line of `check`."""
    where = f"{files} file{'s' * (files != 1)}, {rules} rule{'s' * (rules != 1)}"
    if not errors and not warnings:
        return style("ok", "green", "bold") + f": {where}, no problems"
    parts = []
    if errors:
        parts.append(style(f"{errors} error{'s' * (errors != 1)}", "red", "bold"))
    if warnings:
        parts.append(style(f"{warnings} warning{'s' * (warnings != 1)}", "yellow", "bold"))
    return ", ".join(parts) + f" in {where}"
