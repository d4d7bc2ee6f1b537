"""Properties: formatting is idempotent and changes no request; every compiled request
passes the service model (ours and botocore's own validator); any text ends in the
project's own diagnostics, never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyengine.engine import check_sources
from policyengine.formatter import format_file
from policyengine.parser import parse
from policyengine.servicemodel import validate
from policyengine.sources import Source

from .strategies import near_misses, rule_files

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def compiled(text: str) -> list[dict[str, object]]:
    result = check_sources([Source("p.policy", text)])
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return [r.to_json() | {"line": None} for r in result.compiled.requests]


@SETTINGS
@given(rule_files())
def test_formatting_is_idempotent_and_keeps_the_requests(text: str) -> None:
    parsed = parse(text, "p.policy")
    assert parsed.ok, parsed.diagnostics
    once = format_file(parsed, text)
    twice = format_file(parse(once, "p.policy"), once)
    assert once == twice
    assert compiled(once) == compiled(text)


@SETTINGS
@given(rule_files())
def test_every_compiled_request_passes_the_service_model(text: str) -> None:
    from botocore.session import get_session
    from botocore.validate import ParamValidator

    shape = get_session().get_service_model("imagebuilder").operation_model("StartResourceStateUpdate").input_shape
    for entry in compiled(text):
        request = entry["request"]
        assert isinstance(request, dict)
        assert validate(request) == []
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), report.generate_report()


@SETTINGS
@given(st.one_of(st.text(max_size=400), near_misses()))
def test_any_text_ends_in_diagnostics(text: str) -> None:
    result = check_sources([Source("fuzz.policy", text)])
    for d in result.diagnostics:
        assert d.code and d.message and d.span.line >= 1 and d.span.column >= 1


@SETTINGS
@given(near_misses())
def test_formatting_a_near_miss_never_breaks_it(text: str) -> None:
    parsed = parse(text, "p.policy")
    if parsed.ok:
        once = format_file(parsed, text)
        assert parse(once, "p.policy").ok
        assert format_file(parse(once, "p.policy"), once) == once
