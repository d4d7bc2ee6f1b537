"""Diagnostics for machines: JSON, SARIF 2.1.0 and GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .._version import __version__
from ..codes import CODES
from ..constants import PROJECT
from ..errors import Diagnostic, Severity

DOCS_URI = "https://github.com/policyengine/policyengine/blob/main/docs/language.md"


def to_json(diagnostics: Sequence[Diagnostic]) -> str:
    """The shape of `check --format json`."""
    errors = sum(1 for d in diagnostics if d.is_error)
    return json.dumps(
        {"diagnostics": [d.to_json() for d in diagnostics], "errors": errors, "warnings": len(diagnostics) - errors},
        indent=2,
        ensure_ascii=False,
    )


def to_sarif(diagnostics: Sequence[Diagnostic]) -> str:
    """A SARIF 2.1.0 log with one run."""
    used = sorted({d.code for d in diagnostics})
    index = {code: i for i, code in enumerate(used)}
    rules = [
        {
            "id": code,
            "name": CODES.get(code, code),
            "shortDescription": {"text": CODES.get(code, code)},
            "helpUri": f"{DOCS_URI}#{code.lower()}",
        }
        for code in used
    ]
    results = [_sarif_result(d, index[d.code]) for d in diagnostics]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": PROJECT,
                        "version": __version__,
                        "informationUri": DOCS_URI,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)


def _location(file: str, line: int, column: int, end_line: int, end_column: int) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": file},
            "region": {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column},
        }
    }


def _sarif_result(d: Diagnostic, rule_index: int) -> dict[str, Any]:
    s = d.span
    text = d.message + (f"\nHint: {d.hint}" if d.hint else "")
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": "error" if d.severity is Severity.ERROR else "warning",
        "message": {"text": text},
        "locations": [_location(s.file, s.line, s.column, s.end_line, max(s.end_column, s.column))],
    }
    if d.notes:
        result["relatedLocations"] = [
            {
                "id": i,
                "message": {"text": n.message},
                **_location(n.span.file, n.span.line, n.span.column, n.span.end_line, n.span.end_column),
            }
            for i, n in enumerate(d.notes)
        ]
    return result


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands: one annotation a diagnostic."""
    out = []
    for d in diagnostics:
        s = d.span
        kind = "error" if d.is_error else "warning"
        props = [f"file={_escape_property(s.file)}", f"line={s.line}", f"col={s.column}"]
        if s.end_line != s.line or s.end_column > s.column + 1:
            props += [f"endLine={s.end_line}", f"endColumn={max(s.column, s.end_column - 1)}"]
        props.append(f"title={_escape_property(f'{d.code} {CODES.get(d.code, d.code)}')}")
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        out.append(f"::{kind} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(out)
