"""What Image Builder accepts beyond the service model: checked on each resolved rule.

These are the rules the service documentation states and botocore never checks
(LANGUAGE.md, "What Image Builder accepts"), plus lint warnings.
"""

from __future__ import annotations

from .errors import Diagnostic, Note, Span, error, warning
from .model import Rule, Status
from .servicemodel import known_regions, region_pattern_match
from .suggest import did_you_mean


def _inside(span: Span, outer: Span) -> bool:
    return span.file == outer.file and (outer.line, outer.column) <= (span.line, span.column) <= (
        outer.end_line,
        outer.end_column,
    )


def _where(rule: Rule, span: Span, what: str) -> tuple[Span, tuple[Note, ...]]:
    """Report at ``span`` when the rule wrote it, else at the rule's name with a note."""
    if _inside(span, rule.span):
        return span, ()
    return rule.name_span, (Note(span, f"{what} is set in `defaults` here"),)


def check_rule(rule: Rule, warned: set[tuple[str, Span]] | None = None) -> list[Diagnostic]:
    """The Image Builder rules and lint warnings for one rule.

    ``warned`` holds the unknown regions already reported (with their place) in this run: a
    region written in `defaults` is checked once, not once per rule.
    """
    out: list[Diagnostic] = []
    include, status = rule.include, rule.status
    if rule.role and not include and "include" not in rule.invalid:
        span, notes = _where(rule, rule.role.span, "`role`")
        out.append(
            error(
                span,
                "E406",
                "`role` is given without `include`",
                "Image Builder uses the execution role only to act on included resources: add "
                "`include amis` (or what the rule should reach), or remove `role`",
                *notes,
            )
        )
    if include and not rule.role and "role" not in rule.invalid:
        span, notes = _where(rule, include.span, "`include`")
        out.append(
            error(
                span,
                "E406",
                "`include` needs an execution `role`",
                'add `role "arn:aws:iam::ACCOUNT:role/NAME"` (or in `defaults`)',
                *notes,
            )
        )
    if include and include.snapshots and not include.amis:
        span, notes = _where(rule, include.span, "`include`")
        out.append(
            error(span, "E407", "`include snapshots` needs `include amis`", "write `include amis, snapshots`", *notes)
        )
    if include and status and status is not Status.DELETED and (include.snapshots or include.containers):
        kinds = " and ".join(k for k in ("snapshots", "containers") if getattr(include, k))
        span, notes = _where(rule, include.span, "`include`")
        out.append(
            error(
                span,
                "E408",
                f"{kinds} can be included only with `status deleted`",
                f"`status {status.value}` applies to AMIs only: write `include amis`",
                *notes,
            )
        )
    if status is Status.DELETED and not include and rule.status_span and "include" not in rule.invalid:
        out.append(
            error(
                rule.status_span,
                "E409",
                "`status deleted` needs `include`",
                "say what to delete with the image: `include amis, snapshots` (and `containers`), with a `role`",
            )
        )
    if rule.at and status and status is not Status.DEPRECATED:
        out.append(
            error(
                rule.at.span,
                "E410",
                f"`at` cannot be used with `status {status.value}`",
                "Image Builder schedules only deprecation: remove `at`, or use `status deprecated`",
            )
        )
    if (rule.token and len(rule.targets) + len(rule.selectors) > 1) or (rule.token and rule.selectors):
        out.append(
            error(
                rule.token.span,
                "E414",
                "`token` names one request, but this rule makes one request per target",
                "remove `token`, so that each request gets its own derived token, or give each target its own rule",
            )
        )
    excl = rule.exclusions
    if excl and not (include and include.amis) and "include" not in rule.invalid:
        span, notes = _where(rule, excl.spans[-1], "`exclude`")
        out.append(
            warning(
                span,
                "W001",
                "exclusion criteria have no effect without `include amis`",
                "Image Builder applies exclusions only to included AMIs: add `include amis`, or remove the `exclude`",
                *notes,
            )
        )
    regions = [(r.value, r.span) for r in (excl.regions if excl else [])]
    regions += [(t.arn.split(":")[3], t.span) for t in rule.targets if t.arn.count(":") >= 5]
    warned = set() if warned is None else warned
    for region, span in regions:
        if region and region not in known_regions() and (region, span) not in warned:
            warned.add((region, span))
            out.append(_unknown_region(region, span))  # at its own place: defaults report once
    if rule.token and len(rule.token.value) > 36:
        out.append(
            warning(
                rule.token.span,
                "W005",
                f"the token has {len(rule.token.value)} characters; older Image Builder versions accept at most 36",
                "use a token of at most 36 characters",
            )
        )
    return out


def _unknown_region(region: str, span: Span) -> Diagnostic:
    return warning(
        span,
        "W002",
        f"no AWS partition knows the region `{region}`; the service does not check"
        " region names, so a misspelt one silently never matches",
        _region_hint(region),
    )


def _region_hint(region: str) -> str:
    """A close known region, or what else the name could be."""
    hint = did_you_mean(region, sorted(known_regions()))
    partition = region_pattern_match(region)
    if hint is None and partition:
        hint = f"it has the form of a region of partition `{partition}`: if it is new, upgrade botocore"
    return hint or "check the region name"
