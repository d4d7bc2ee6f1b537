"""A plan as Markdown, ready to post as a pull-request comment."""

from __future__ import annotations

from typing import Any

from .plan_text import SYMBOLS

ICONS = {"update": "🔄", "excluded": "🛡️", "skipped": "⏭️", "retained": "📌", "uncertain": "❓"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(document: dict[str, Any]) -> str:
    """The plan as GitHub-flavoured Markdown."""
    summary = document["summary"]
    counts = ", ".join(f"{ICONS[k]} {summary[k]} {k}" for k in SYMBOLS if summary.get(k))
    out = [
        "### policyengine plan",
        "",
        f"**{summary['requests']} request{'s' * (summary['requests'] != 1)}**"
        + (f", **{summary['refused']} refused**" if summary.get("refused") else "")
        + (f": {counts}" if counts else "")
        + f" (evaluated at `{document['now']}`)",
    ]
    current = None
    for request in document["requests"]:
        req = request["request"]
        if request["rule"] != current:
            current = request["rule"]
            out += ["", f"#### `{current}` ({request['file']}:{request['line']})"]
        out += ["", f"`{req['resourceArn']}` → **{req['state']['status']}**", ""]
        for error in request.get("errors", ()):
            out.append(f"> ⛔ **refused:** {_cell(error)}")
        if request["resources"]:
            out += ["| | resource | id | region | verdict | why |", "|---|---|---|---|---|---|"]
            for r in request["resources"]:
                reasons = _cell("; ".join(r["reasons"]))
                icon, verdict = ICONS[r["verdict"]], r["verdict"]
                out.append(f"| {icon} | {r['type']} | `{r['id']}` | {r['region']} | {verdict} | {reasons} |")
        for warning in request["warnings"]:
            out.append(f"> ⚠️ {_cell(warning)}")
    return "\n".join(out) + "\n"
