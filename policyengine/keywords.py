"""The reserved words of the rule language (the grammar's keyword terminals)."""

from __future__ import annotations

ITEM_KEYWORDS = ("import", "let", "defaults", "rule")
STATEMENT_KEYWORDS = (
    "description", "owner", "target", "select", "status", "include",
    "exclude", "role", "at", "token", "notify",
)  # fmt: skip
ALL_KEYWORDS = frozenset(
    (
        *ITEM_KEYWORDS, *STATEMENT_KEYWORDS,
        "amis", "when", "or", "and", "not", "public", "shared", "with", "launched", "within",
        "region", "in", "tag", "true", "false",
        "available", "deprecated", "disabled", "deleted", "snapshots", "containers",
        "day", "days", "week", "weeks", "month", "months", "year", "years",
    )
)  # fmt: skip
