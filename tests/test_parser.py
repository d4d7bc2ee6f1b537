"""The grammar and the parser: strict LALR, reserved keywords, literals, recovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lark import Lark

from policyengine.parser import STRING_PATTERN, grammar_text, parse, parse_timestamp
from policyengine.syntax import Let, RuleDecl, Timestamp


def test_grammar_has_no_conflicts_in_strict_mode() -> None:
    Lark(grammar_text(), parser="lalr", lexer="basic", strict=True)


def test_the_recovery_scanner_matches_strings_as_the_grammar_does() -> None:
    assert f"STRING: /{STRING_PATTERN}/" in grammar_text()


@pytest.mark.parametrize("word", ["status", "rule", "amis", "days", "public", "true", "in"])
def test_keywords_are_reserved_as_let_names(word: str) -> None:
    parsed = parse(f"let {word} = 1", "k.policy")
    assert [d.code for d in parsed.diagnostics] == ["E105"]


def test_keywords_are_literal_after_tag_and_as_argument_names() -> None:
    parsed = parse('rule "a" { exclude amis when tag status = "x" select images(rule: 1) }', "k.policy")
    assert parsed.ok


def test_timestamps_lex_before_integers() -> None:
    parsed = parse("let d = 2030-03-01", "t.policy")
    (item,) = parsed.items
    assert isinstance(item, Let) and isinstance(item.value, Timestamp)
    assert item.value.value == datetime(2030, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-01T00:00:00Z", datetime(2027, 1, 1, tzinfo=UTC)),
        ("2027-01-01T09:30:00+02:00", datetime(2027, 1, 1, 7, 30, tzinfo=UTC)),
        ("2027-01-01t09:30:00.5z", datetime(2027, 1, 1, 9, 30, 0, 500000, tzinfo=UTC)),
        ("2027-01-01", datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_timestamps(text: str, expected: datetime) -> None:
    value, problem = parse_timestamp(text)
    assert problem is None and value == expected and value.utcoffset() is not None


@pytest.mark.parametrize(
    "text", ["2027-01-01T00:00", "2027-13-01", "2027-01-01T25:00:00Z", "2027-01-01T00:00:00+24:00"]
)
def test_bad_timestamps(text: str) -> None:
    value, problem = parse_timestamp(text)
    assert value is None and problem


def test_offsets_keep_the_instant() -> None:
    value, _ = parse_timestamp("2027-06-30T23:00:00-05:00")
    assert value is not None and value.utcoffset() == timedelta(hours=-5)


def test_strings_take_json_escapes_only() -> None:
    ok = parse(r'let s = "a\"b\\c\/d\n\u00e9"', "s.policy")
    assert ok.ok
    assert isinstance(ok.items[0], Let)
    bad = parse(r'let s = "a\qb"', "s.policy")
    assert [d.code for d in bad.diagnostics] == ["E103"]
    assert bad.diagnostics[0].span.column == 11


def test_every_syntax_error_in_a_file_is_reported() -> None:
    text = (
        'rule "a" { statsu deprecated }\n'
        "let = 5\n"
        'rule "b" { status deprecated target "x" }\n'
        'rule "c" { target "x" status deprecated, }\n'
    )
    parsed = parse(text, "r.policy")
    assert [(d.code, d.span.line) for d in parsed.diagnostics] == [("E106", 1), ("E104", 2), ("E104", 4)]
    rules = [i for i in parsed.items if isinstance(i, RuleDecl)]
    assert [(r.name.value, r.broken) for r in rules] == [("a", True), ("b", False), ("c", True)]


def test_unknown_statement_suggests_the_keyword() -> None:
    parsed = parse('rule "a" { exlcude amis when public }', "r.policy")
    (d,) = parsed.diagnostics
    assert d.code == "E106" and d.hint == "did you mean `exclude`?"


def test_comments_are_kept_with_positions() -> None:
    parsed = parse("# one\nlet a = 1 # two\n", "c.policy")
    assert [(c.text, c.span.line, c.span.column) for c in parsed.comments] == [("# one", 1, 1), ("# two", 2, 11)]


def test_an_item_finished_just_before_an_error_is_kept() -> None:
    for garbage in ['rulex "b" {}', "@", ";;"]:
        parsed = parse(f'rule "a" {{ status deprecated }}\n{garbage}', "r.policy")
        assert [i.name.value for i in parsed.items if isinstance(i, RuleDecl)] == ["a"], garbage
        assert len(parsed.diagnostics) == 1


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0000-01-01"])
def test_times_outside_the_utc_range_are_diagnostics(text: str) -> None:
    value, problem = parse_timestamp(text)
    assert value is None and problem


def test_negative_numbers_get_their_own_hint() -> None:
    (d,) = parse("let x = -1", "n.policy").diagnostics
    assert d.code == "E101" and d.hint == "numbers are never negative in rule files"


def test_the_keyword_list_is_the_grammars() -> None:
    import re

    from policyengine.keywords import ALL_KEYWORDS

    terminals = set(re.findall(r'^[A-Z]+: "([a-z]+)"$', grammar_text(), re.M))
    assert terminals == ALL_KEYWORDS
