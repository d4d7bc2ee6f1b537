"""A plan for people: grouped by rule, one line per resource with a symbol and the reason."""

from __future__ import annotations

from typing import Any

from .style import Style

SYMBOLS = {
    "update": ("~", "yellow"),
    "excluded": ("-", "green"),
    "skipped": (".", "dim"),
    "retained": ("=", "cyan"),
    "uncertain": ("?", "red"),
}


def render_text(document: dict[str, Any], style: Style) -> str:
    """The plan as text."""
    out: list[str] = []
    current = None
    for request in document["requests"]:
        if request["rule"] != current:
            current = request["rule"]
            out.append(style(f"rule {current}", "bold") + style(f"  ({request['file']}:{request['line']})", "dim"))
        req = request["request"]
        out.append(f"  {req['resourceArn']} -> {style(req['state']['status'], 'bold')}")
        for error in request.get("errors", ()):
            out.append(style(f"    ! refused: {error}", "red", "bold"))
        for resource in request["resources"]:
            symbol, colour = SYMBOLS[resource["verdict"]]
            reasons = f": {'; '.join(resource['reasons'])}" if resource["reasons"] else ""
            where = f"{resource['region']}" if resource["type"] != "image" else ""
            head = f"    {symbol} {resource['type']:<9} {resource['id']} {where}".rstrip()
            out.append(style(head, colour) + style(f"  {resource['verdict']}{reasons}", colour))
        for warning in request["warnings"]:
            out.append(style(f"    ! {warning}", "yellow"))
    out.append(summary_line(document["summary"], style))
    return "\n".join(out)


def summary_line(summary: dict[str, int], style: Style) -> str:
    """`Plan: 3 requests: 5 update, 2 excluded, ...`."""
    counts = ", ".join(f"{summary[k]} {k}" for k in SYMBOLS if summary.get(k))
    refused = f", {summary['refused']} refused" if summary.get("refused") else ""
    requests = summary["requests"]
    return style(f"Plan: {requests} request{'s' * (requests != 1)}{refused}", "bold") + (
        f": {counts}" if counts else ""
    )
