"""Tests for the skip-logic and constraint expression language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.errors import ExpressionError, ExpressionSyntaxError, ExpressionTypeError
from surveys.expressions import (
    MAX_DEPTH,
    MAX_NESTING,
    Binary,
    Call,
    Current,
    Expr,
    Negate,
    Number,
    Ref,
    String,
    ValueType,
    check,
    evaluate,
    evaluate_value,
    parse,
    references,
    unparse,
)

TODAY = date(2024, 3, 15)

TYPES: dict[str, ValueType] = {
    "name": ValueType.STRING,
    "country": ValueType.STRING,
    "agree": ValueType.STRING,
    "topics": ValueType.LIST,
    "nights": ValueType.NUMBER,
    "budget": ValueType.NUMBER,
    "arrival": ValueType.DATE,
    "intro": ValueType.NONE,
}
CHOICES: dict[str, frozenset[str]] = {
    "country": frozenset({"fr", "de"}),
    "agree": frozenset({"yes", "no"}),
    "topics": frozenset({"visa", "rail", "hotel"}),
}


def check_default(
    text: str,
    *,
    current: ValueType | None = None,
    current_choices: frozenset[str] | None = None,
) -> ValueType:
    return check(
        parse(text), TYPES, current=current, choices=CHOICES, current_choices=current_choices
    )


def run(text: str, answers: Mapping[str, object] | None = None, current: object = None) -> bool:
    return evaluate(parse(text), answers or {}, current=current, today=TODAY)


# --- Parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 * 2 + 3", "((1 * 2) + 3)"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("8 div 2 mod 3", "((8 div 2) mod 3)"),
        ("2 * (3 + 4)", "(2 * (3 + 4))"),
        ("-2 * 3", "(-2 * 3)"),
        ("- ${a} * 3", "(-${a} * 3)"),
        ("-(1 + 2)", "-(1 + 2)"),
        ("--1", "1"),
        ("-(1)", "-1"),
        ("1 - -1", "(1 - -1)"),
        ("1 + 2 < 4", "((1 + 2) < 4)"),
        ("1 < 2 = true()", "((1 < 2) = true())"),
        ("${a} = 1 or ${b} = 2 and ${c} = 3", "((${a} = 1) or ((${b} = 2) and (${c} = 3)))"),
        ("${a} != 1 and ${b} <= 2", "((${a} != 1) and (${b} <= 2))"),
        ("${a} >= 1 or ${b} > 2 or ${c} < 3", "(((${a} >= 1) or (${b} > 2)) or (${c} < 3))"),
        ("(${a} = 1 or ${b} = 2) and ${c} = 3", "(((${a} = 1) or (${b} = 2)) and (${c} = 3))"),
        ("${a}div 2", "(${a} div 2)"),
        ("${a}mod 2=0", "((${a} mod 2) = 0)"),
        ("  ${a}\n=\t'x' ", "(${a} = 'x')"),
        (". >= 0 and . <= 31", "((. >= 0) and (. <= 31))"),
        (".5 = 0.50", "(0.5 = 0.5)"),
        ("2.5 + 3", "(2.5 + 3)"),
        ("\"it's\" = 'x'", "(\"it's\" = 'x')"),
        ("${and} = ${q.1-a_b}", "(${and} = ${q.1-a_b})"),
        ("selected(${t}, 'a')", "selected(${t}, 'a')"),
        ("count-selected(${t}) > 1", "(count-selected(${t}) > 1)"),
        ("string-length(.) <= 10", "(string-length(.) <= 10)"),
        ("not(true())", "not(true())"),
        ("today() > '2024-01-31'", "(today() > '2024-01-31')"),
        ("number(${a}) = 3", "(number(${a}) = 3)"),
        ("if(${a} > 1, 'x', \"y\") = 'x'", "(if((${a} > 1), 'x', 'y') = 'x')"),
        ("regex(., '[0-9]+')", "regex(., '[0-9]+')"),
        ("coalesce(${a},0)>1", "(coalesce(${a}, 0) > 1)"),
        ("false()", "false()"),
    ],
)
def test_parse_follows_xlsform_precedence(text: str, canonical: str) -> None:
    assert unparse(parse(text)) == canonical


def test_parse_builds_an_immutable_tree_with_positions() -> None:
    tree = parse("selected(${q}, 'a') and . > -2")

    assert tree == Binary(
        op="and",
        left=Call(name="selected", args=(Ref(question="q"), String(value="a"))),
        right=Binary(op=">", left=Current(), right=Number(value=-2)),
    )
    assert isinstance(tree, Binary)
    assert isinstance(tree.left, Call)
    assert isinstance(tree.right, Binary)
    assert [tree.pos, tree.left.pos, tree.left.args[0].pos, tree.left.args[1].pos] == [20, 0, 9, 15]
    assert [tree.right.pos, tree.right.left.pos, tree.right.right.pos] == [26, 24, 28]
    assert tree.source == "selected(${q}, 'a') and . > -2"
    with pytest.raises(AttributeError):
        tree.op = "or"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", Number(value=3)),
        ("2.5", Number(value=2.5)),
        ("-1", Number(value=-1)),
        ("'text'", String(value="text")),
        ('"text"', String(value="text")),
        ("''", String(value="")),
        ("${q1}", Ref(question="q1")),
        (".", Current()),
        ("true()", Call(name="true")),
        ("-${n}", Negate(operand=Ref(question="n"))),
    ],
)
def test_parse_literals_and_operands(text: str, expected: Expr) -> None:
    assert parse(text) == expected


def test_number_literals_keep_int_and_float_apart() -> None:
    assert isinstance(parse("3").value, int)  # type: ignore[union-attr]
    assert isinstance(parse("3.0").value, float)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${a} = 1 and selected(${b}, 'x') or ${a} > ${c}", ["a", "b", "c"]),
        ("if(${c}, ${b}, -${a}) = coalesce(${b}, ${d})", ["c", "b", "a", "d"]),
        (". > 1", []),
        ("'${a}' = 'x'", []),
    ],
)
def test_references_in_order_of_first_appearance(text: str, expected: list[str]) -> None:
    assert references(parse(text)) == expected


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "empty expression", 0),
        ("   ", "empty expression", 0),
        ("${a} = 'x", "unterminated string: add the closing '", 7),
        ('${a} = "x', 'unterminated string: add the closing "', 7),
        ("${a = 1", "'${' without '}'", 0),
        ("1 = ${a", "'${' without '}'", 4),
        ("${} = 1", "empty question reference '${}'", 0),
        ("${1a} = 1", "'1a' is not a valid question id", 2),
        ("${a b} = 1", "'a b' is not a valid question id", 2),
        ("${a} # 1", "unexpected character '#'", 5),
        ("${a} = ☃", "unexpected character '☃'", 7),
        ("$a = 1", "unexpected character '$' (refer to a question as ${id})", 0),
        ("!${a}", "unexpected character '!' (use '!=' or not())", 0),
        ("${a} && ${b}", "unexpected character '&' (use 'and')", 5),
        ("${a} / 2", "unexpected character '/' (use 'div')", 5),
        ("${a} == 1", "write '=' to compare, not '=='", 5),
        ("(1 = 1", "missing ')'", 6),
        ("((1 = 1)", "missing ')'", 8),
        ("selected(${a}, 'x'", "missing ')'", 18),
        ("selected(${a} 'x')", "missing ',' or ')' before text 'x'", 14),
        ("(1 = 1 2)", "missing ')' before number 2", 7),
        ("(1 AND 2)", "operators are lower case: write 'and', not 'AND'", 3),
        ("1 = 1 2", "unexpected number 2 after a complete expression", 6),
        ("1 = 1)", "unexpected ')' after a complete expression", 5),
        ("${a} = 1 ${b}", "unexpected ${b} after a complete expression", 9),
        ("${a} = 'x' 'y'", "unexpected text 'y' after a complete expression", 11),
        ("1 = 1 foo", "unexpected word 'foo' after a complete expression", 6),
        ("1 = 1 OR 2 = 2", "operators are lower case: write 'or', not 'OR'", 6),
        ("1 +", "expected a value, found the end", 3),
        ("= 1", "expected a value, found '='", 0),
        (")", "expected a value, found ')'", 0),
        ("()", "expected a value, found ')'", 1),
        ("selected(${a},)", "expected a value, found ')'", 14),
        ("1 = 1,", "unexpected ',' after a complete expression", 5),
        ("foo = 1", "unknown word 'foo' (put text in quotes, and question ids in ${...})", 0),
        ("true = 1", "'true' needs brackets: true()", 0),
        (". .", "unexpected '.' after a complete expression", 2),
        ("__import__('os').system('x')", "unexpected '.' after a complete expression", 16),
        (
            "os.system('rm -rf /')",
            "unknown word 'os' (put text in quotes, and question ids in ${...})",
            0,
        ),
        ("1" * 5000 + " = 1", "number is too long", 0),
        ("9" * 400 + ".5 = 1", "number is too large", 0),
        (
            "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1),
            "the expression is nested too deeply",
            MAX_NESTING,
        ),
        (" + ".join(["1"] * (MAX_DEPTH + 1)), "the expression is nested too deeply", 0),
    ],
)
def test_syntax_errors_say_what_and_where(text: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse(text)

    assert caught.value.detail == message
    assert caught.value.position == position
    assert caught.value.expression == text
    assert f"at character {position + 1}" in str(caught.value)


def test_nesting_up_to_the_limits_parses() -> None:
    deep = "(" * MAX_NESTING + "1 = 1" + ")" * MAX_NESTING
    long = " + ".join(["1"] * (MAX_DEPTH - 1)) + " > 0"

    assert check(parse(deep), {}, current=None, choices={}) is ValueType.BOOLEAN
    assert evaluate(parse(long), {}) is True


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('x')",
        "exec('print(1)')",
        "().__class__.__bases__",
        "${a}.__class__",
        "lambda: 1",
        "[x for x in ()]",
        "open('/etc/passwd').read()",
    ],
)
def test_python_code_is_never_run(text: str) -> None:
    with pytest.raises(ExpressionError):
        check(parse(text), {"a": ValueType.STRING}, current=None, choices={})


# --- Type checking --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "current", "current_choices"),
    [
        ("${country} = 'fr'", None, None),
        ("'de' != ${country}", None, None),
        ("${country} = ${agree}", None, None),
        ("${country} = ''", None, None),
        ("${topics} = ''", None, None),
        ("'' != ${topics}", None, None),
        ("${nights} = ''", None, None),
        ("${arrival} != ''", None, None),
        ("${name} = 'anything at all'", None, None),
        ("${name} < 'm'", None, None),
        ("selected(${topics}, 'visa')", None, None),
        ("selected(${country}, 'fr')", None, None),
        ("selected(${agree}, 'yes')", None, None),
        ("selected(${topics}, ${name})", None, None),
        ("count-selected(${topics}) >= 2", None, None),
        ("${arrival} < today()", None, None),
        ("${arrival} >= '2024-01-31'", None, None),
        ("'2024-01-31' < ${arrival}", None, None),
        ("string-length(${name}) <= 10", None, None),
        ("string-length(${nights}) = 2", None, None),
        ("not(${agree} = 'no')", None, None),
        ("if(${nights} > 2, ${nights}, 0) > 1", None, None),
        ("if(${nights} > 2, ${nights}, '') > 1", None, None),
        ("if(true(), ${arrival}, '2024-01-01') < today()", None, None),
        ("if(true(), '2024-01-01', ${arrival}) < today()", None, None),
        ("if(${nights} > 2, true(), false())", None, None),
        ("regex(${name}, '[A-Z][a-z]+')", None, None),
        ("coalesce(${nights}, 0) > 1", None, None),
        ("number(${name}) > 3", None, None),
        ("number(today()) - number(${arrival}) > 30", None, None),
        ("true()", None, None),
        ("(1 = 1) = true()", None, None),
        ("-${nights} < 0", None, None),
        ("${nights} mod 2 = 0 and ${nights} div 2 > 1", None, None),
        ("${nights} * ${budget} - 1 + 2 >= 100", None, None),
        (". >= 0 and . <= 31", ValueType.NUMBER, None),
        ("regex(., '[0-9]{5}')", ValueType.STRING, None),
        ("selected(., 'visa') or count-selected(.) > 2", ValueType.LIST, None),
        ("not(selected(., 'none') and count-selected(.) > 1)", ValueType.LIST, None),
        ("selected(., 'x')", ValueType.STRING, frozenset({"x", "y"})),
        (". != 'y'", ValueType.STRING, frozenset({"x", "y"})),
        (". <= today()", ValueType.DATE, None),
    ],
)
def test_check_accepts_well_typed_conditions(
    text: str, current: ValueType | None, current_choices: frozenset[str] | None
) -> None:
    result = check_default(text, current=current, current_choices=current_choices)
    assert result is ValueType.BOOLEAN


MULTIPLE = "is multiple choice: use it in selected() or count-selected(), or compare it with ''"


@pytest.mark.parametrize(
    ("text", "current", "message", "position"),
    [
        ("${q9} = 1", None, "unknown question 'q9'", 0),
        ("${nights} > 1 and ${q9} = 1", None, "unknown question 'q9'", 18),
        ("${intro} = ''", None, "'intro' is a note and has no value", 0),
        (". > 1", None, "'.' can only be used in a constraint", 0),
        (". > 1", ValueType.NONE, "'.' has no value: this question takes no answer", 0),
        ("${nights} = 'x'", None, "cannot compare number with string", 10),
        ("${name} < 3", None, "cannot compare string with number", 8),
        ("${arrival} = 3", None, "cannot compare date with number", 11),
        ("${arrival} < ${name}", None, "cannot compare date with string", 11),
        (
            "${arrival} < 'tomorrow'",
            None,
            "'tomorrow' is not a date: write dates as 'YYYY-MM-DD'",
            13,
        ),
        (
            "'2024-02-30' < ${arrival}",
            None,
            "'2024-02-30' is not a date: write dates as 'YYYY-MM-DD'",
            0,
        ),
        ("(1 = 1) = 1", None, "cannot compare boolean with number", 8),
        ("true() < false()", None, "cannot use '<' on true or false", 7),
        (". = 'x'", ValueType.NUMBER, "cannot compare number with string", 2),
        ("${nights} + 'a' > 1", None, "'+' needs numbers, not string", 12),
        ("today() - 1 > 0", None, "'-' needs numbers, not date", 0),
        ("${name} * 2 > 0", None, "'*' needs numbers, not string", 0),
        ("${name} div 2 > 0", None, "'div' needs numbers, not string", 0),
        ("1 mod true() > 0", None, "'mod' needs numbers, not boolean", 6),
        ("-${name} < 1", None, "'-' needs a number, not string", 1),
        ("1 and true()", None, "'and' needs true or false on both sides, not number", 0),
        ("true() or 'x'", None, "'or' needs true or false on both sides, not string", 10),
        ("not(1)", None, "not() needs true or false, not number", 4),
        ("${nights}", None, "the condition must be true or false, not number", 0),
        ("${nights} + 1", None, "the condition must be true or false, not number", 10),
        ("'yes'", None, "the condition must be true or false, not string", 0),
        ("today()", None, "the condition must be true or false, not date", 0),
        ("${topics}", None, f"'topics' {MULTIPLE}", 0),
        ("${topics} = 'visa'", None, f"'topics' {MULTIPLE}", 0),
        ("string-length(${topics}) > 1", None, f"'topics' {MULTIPLE}", 14),
        ("coalesce(${topics}, 'x') = 'x'", None, f"'topics' {MULTIPLE}", 9),
        (". = 'visa'", ValueType.LIST, f"'.' {MULTIPLE}", 0),
        (
            "selected(${name}, 'x')",
            None,
            "selected() needs a choice question, and 'name' is not one",
            9,
        ),
        (
            "selected(., 'x')",
            ValueType.STRING,
            "selected() needs a choice question, and this one is not",
            9,
        ),
        ("selected('a', 'a')", None, "selected() needs a choice question first, such as ${q}", 9),
        ("selected(${q9}, 'a')", None, "unknown question 'q9'", 9),
        (
            "selected(${topics}, 1)",
            None,
            "selected() needs a choice code in quotes, not number",
            20,
        ),
        ("selected(${topics}, 'maybe')", None, "'maybe' is not a choice of 'topics'", 20),
        ("selected(${agree}, 'maybe')", None, "'maybe' is not a choice of 'agree'", 19),
        ("${country} = 'maybe'", None, "'maybe' is not a choice of 'country'", 13),
        ("'maybe' != ${country}", None, "'maybe' is not a choice of 'country'", 0),
        (
            "count-selected(${name}) > 1",
            None,
            "count-selected() needs a multiple choice answer, not string",
            15,
        ),
        ("string-length(true()) > 1", None, "string-length() needs text, not boolean", 14),
        ("today(1) = today()", None, "today() takes no arguments, not 1", 0),
        ("not(true(), false())", None, "not() takes 1 argument, not 2", 0),
        ("selected(${topics})", None, "selected() takes 2 arguments, not 1", 0),
        ("if(true(), 1) = 1", None, "if() takes 3 arguments, not 2", 0),
        ("foo(1)", None, "unknown function 'foo'", 0),
        ("${nights} > 1 and concat('a') = 'a'", None, "unknown function 'concat'", 18),
        (
            "selectd(${topics}, 'visa')",
            None,
            "unknown function 'selectd' (did you mean selected()?)",
            0,
        ),
        ("regex(${name}, '[a-')", None, "bad pattern in regex(): unterminated character set", 16),
        ("regex(${name}, 'a)')", None, "bad pattern in regex(): unbalanced parenthesis", 17),
        ("regex(${name}, ${name})", None, "the pattern of regex() must be text in quotes", 15),
        ("regex(true(), 'a')", None, "regex() needs text, not boolean", 6),
        (
            "if(1, true(), false())",
            None,
            "the condition of if() must be true or false, not number",
            3,
        ),
        ("if(true(), 1, 'a') = 1", None, "if() mixes number and string", 0),
        ("coalesce(${nights}, 'x') > 1", None, "coalesce() mixes number and string", 0),
    ],
)
def test_check_reports_type_errors(
    text: str, current: ValueType | None, message: str, position: int
) -> None:
    with pytest.raises(ExpressionTypeError) as caught:
        check_default(text, current=current)

    assert caught.value.detail == message
    assert caught.value.position == position
    assert caught.value.expression == text


def test_check_knows_the_codes_of_the_question_being_constrained() -> None:
    with pytest.raises(ExpressionTypeError) as caught:
        check_default(". = 'z'", current=ValueType.STRING, current_choices=frozenset({"x"}))
    assert caught.value.detail == "'z' is not a choice of this question"
    assert caught.value.position == 4

    with pytest.raises(ExpressionTypeError) as caught:
        check_default("selected(., 'z')", current=ValueType.LIST, current_choices=frozenset({"x"}))
    assert caught.value.detail == "'z' is not a choice of this question"


def test_check_on_a_hand_built_tree_shows_its_canonical_text() -> None:
    tree = Binary(op="=", left=Ref(question="q9"), right=Number(value=1))

    with pytest.raises(ExpressionTypeError) as caught:
        check(tree, {}, current=None, choices={})

    assert caught.value.expression == "(${q9} = 1)"


def test_a_multiple_choice_question_without_codes_is_not_a_choice_question() -> None:
    with pytest.raises(ExpressionTypeError, match="'t' is not one"):
        check(parse("selected(${t}, 'a')"), {"t": ValueType.LIST}, current=None, choices={})


# --- Evaluation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answers", "expected"),
    [
        # unanswered is the empty string
        ("${country} = ''", {}, True),
        ("${country} = ''", {"country": None}, True),
        ("${country} = ''", {"country": "fr"}, False),
        ("${country} != ''", {"country": "fr"}, True),
        ("${country} != 'fr'", {}, True),
        ("${country} = 'fr'", {}, False),
        ("${country} = ${agree}", {}, True),
        ("${nights} = ''", {}, True),
        ("${nights} = ''", {"nights": 0}, False),
        ("${nights} > 2", {}, False),
        ("${nights} < 2", {}, False),
        ("${nights} <= 2", {}, False),
        ("${nights} >= 2", {}, False),
        ("${nights} = 2", {}, False),
        ("${nights} != 2", {}, True),
        ("${nights} + 1 > 0", {}, False),
        ("${nights} + 1 < 0", {}, False),
        ("-${nights} < 0", {}, False),
        ("${nights} * 0 = 0", {}, False),
        ("not(${agree} = 'no')", {}, True),
        ("string-length(${name}) = 0", {}, True),
        ("count-selected(${topics}) = 0", {}, True),
        ("selected(${topics}, 'visa')", {}, False),
        ("number(${name}) > 0", {}, False),
        ("coalesce(${nights}, 0) = 0", {}, True),
        ("coalesce(${nights}, 0) = 4", {"nights": 4}, True),
        ("if(${nights} > 2, 'long', 'short') = 'short'", {}, True),
        ("if(${nights} > 2, 'long', 'short') = 'long'", {"nights": 3}, True),
        # numbers
        ("${nights} > 2", {"nights": 3}, True),
        ("${nights} > 2", {"nights": 2.5}, True),
        ("${nights} > 2", {"nights": 2}, False),
        ("${nights} >= 2", {"nights": 2}, True),
        ("${nights} <= 2", {"nights": 2}, True),
        ("${nights} < 2", {"nights": 2}, False),
        ("${nights} = 3", {"nights": 3.0}, True),
        ("${nights} != 3", {"nights": 3.0}, False),
        ("${nights} > ${budget}", {"nights": 3, "budget": 2.5}, True),
        ("${nights} > 2", {"nights": float("nan")}, False),
        ("${nights} > 2", {"nights": float("inf")}, True),
        ("1 + 2 * 3 = 7", {}, True),
        ("(1 + 2) * 3 = 9", {}, True),
        ("10 - 2 - 3 = 5", {}, True),
        ("10 div 4 = 2.5", {}, True),
        ("7 mod 3 = 1", {}, True),
        ("-7 mod 3 = -1", {}, True),
        ("7 mod -3 = 1", {}, True),
        ("7.5 mod 2 = 1.5", {}, True),
        ("-(2 + 1) = -3", {}, True),
        # division by zero is empty, never an exception
        ("${nights} div 0 > 1", {"nights": 3}, False),
        ("${nights} div 0 < 1", {"nights": 3}, False),
        ("${nights} div 0 = 0", {"nights": 3}, False),
        ("${nights} mod 0 = 0", {"nights": 3}, False),
        ("${nights} mod 0 >= 0", {"nights": 3.5}, False),
        ("1 div (${nights} - 3) > 0", {"nights": 3}, False),
        ("${nights} div 0 = ''", {"nights": 3}, True),
        ("${nights} * 2 > 0", {"nights": 10**400}, True),
        ("${nights} + 0.5 > 0", {"nights": 10**400}, False),
        # strings, single choice, text
        ("${country} = 'fr'", {"country": "fr"}, True),
        ("${country} != 'fr'", {"country": "de"}, True),
        ("selected(${country}, 'fr')", {"country": "fr"}, True),
        ("selected(${country}, 'fr')", {"country": "de"}, False),
        ("'b' > 'a'", {}, True),
        ("${name} < 'm'", {"name": "alice"}, True),
        ("string-length(${name}) = 5", {"name": "Alice"}, True),
        ("string-length(${nights}) = 3", {"nights": 120}, True),
        ("string-length(${nights}) = 1", {"nights": 2.0}, True),
        ("number(${name}) = 3", {"name": " 3 "}, True),
        ("number(${name}) = 3.5", {"name": "3.5"}, True),
        ("number(${name}) > 0", {"name": "abc"}, False),
        ("regex(${name}, '[A-Z][a-z]+')", {"name": "Alice"}, True),
        ("regex(${name}, '[A-Z][a-z]+')", {"name": "alice"}, False),
        ("regex(${name}, '[A-Z][a-z]+')", {"name": "Alice1"}, False),
        ("regex(${nights}, '[0-9]+')", {"nights": 42}, True),
        ("regex(${name}, '[a-')", {"name": "a"}, False),
        # dates: answers are ISO strings, today() is a date
        ("${arrival} < today()", {"arrival": "2024-03-14"}, True),
        ("${arrival} < today()", {"arrival": "2024-03-15"}, False),
        ("${arrival} < today()", {}, False),
        ("${arrival} = today()", {"arrival": "2024-03-15"}, True),
        ("today() != ${arrival}", {"arrival": "2024-03-15"}, False),
        ("${arrival} >= '2024-01-31'", {"arrival": "2024-02-01"}, True),
        ("${arrival} >= '2024-01-31'", {"arrival": "2024-01-30"}, False),
        ("today() > '2024-03-01'", {}, True),
        ("today() <= '2024-03-15'", {}, True),
        ("${arrival} = ''", {}, True),
        ("${arrival} < today()", {"arrival": "not a date"}, False),
        ("${arrival} < today()", {"arrival": "2024-02-30"}, False),
        ("${arrival} = today()", {"arrival": "garbage"}, False),
        ("number(today()) - number(${arrival}) > 30", {"arrival": "2024-01-01"}, True),
        ("number(today()) - number(${arrival}) > 30", {"arrival": "2024-03-01"}, False),
        ("if(true(), ${arrival}, '2024-01-01') < today()", {}, False),
        # multiple choice: lists of codes
        ("selected(${topics}, 'visa')", {"topics": ["visa", "rail"]}, True),
        ("selected(${topics}, 'visa')", {"topics": ["rail"]}, False),
        ("selected(${topics}, 'visa')", {"topics": []}, False),
        ("selected(${topics}, ${name})", {"topics": ["rail"], "name": "rail"}, True),
        ("count-selected(${topics}) = 2", {"topics": ["visa", "rail"]}, True),
        ("count-selected(${topics}) = 0", {"topics": []}, True),
        ("${topics} = ''", {"topics": []}, True),
        ("${topics} = ''", {}, True),
        ("${topics} = ''", {"topics": ["visa"]}, False),
        ("${topics} != ''", {"topics": ["visa"]}, True),
        # logic
        ("true() and not(false())", {}, True),
        ("true() and false()", {}, False),
        ("false() or true()", {}, True),
        ("false() or false()", {}, False),
        ("${country} = 'fr' or ${agree} = 'yes'", {"agree": "yes"}, True),
        ("${country} = 'fr' and ${agree} = 'yes'", {"agree": "yes"}, False),
        ("(1 = 1) = true()", {}, True),
        ("(1 = 2) != true()", {}, True),
    ],
)
def test_evaluate(text: str, answers: dict[str, object], expected: bool) -> None:
    assert run(text, answers) is expected


@pytest.mark.parametrize(
    ("text", "current", "expected"),
    [
        (". >= 0 and . <= 31", 10, True),
        (". >= 0 and . <= 31", 40, False),
        (". >= 0 and . <= 31", None, False),
        ("regex(., '[0-9]{5}')", "75001", True),
        ("regex(., '[0-9]{5}')", "7500", False),
        ("not(selected(., 'none') and count-selected(.) > 1)", ["none", "visa"], False),
        ("not(selected(., 'none') and count-selected(.) > 1)", ["none"], True),
        (". <= today()", "2024-03-16", False),
        (". <= today()", date(2024, 3, 1), True),
        (". <= today()", datetime(2024, 3, 1, 12, 0), True),
    ],
)
def test_evaluate_constraints_see_the_current_value(
    text: str, current: object, expected: bool
) -> None:
    assert run(text, {}, current=current) is expected


@pytest.mark.parametrize(
    ("text", "answers", "expected"),
    [
        ("1 + 2", {}, 3),
        ("10 div 4", {}, 2.5),
        ("7 mod 3", {}, 1),
        ("-${n}", {"n": 2}, -2),
        ("${n} + 1", {}, None),
        ("${n} div 0", {"n": 1}, None),
        ("today()", {}, TODAY),
        ("count-selected(${t})", {"t": ["a", "b"]}, 2),
        ("string-length('abc')", {}, 3),
        ("number('4')", {}, 4),
        ("number(true())", {}, 1),
        ("coalesce(${a}, 'x')", {}, "x"),
        ("coalesce(${a}, 'x')", {"a": "y"}, "y"),
        ("if(${n} > 1, 'big', 'small')", {"n": 2}, "big"),
        ("${t}", {"t": ["a"]}, ["a"]),
        ("${n} = 1", {"n": 1}, True),
    ],
)
def test_evaluate_value_gives_the_raw_value(
    text: str, answers: dict[str, object], expected: object
) -> None:
    assert evaluate_value(parse(text), answers, today=TODAY) == expected


def test_today_needs_the_date_only_when_reached() -> None:
    with pytest.raises(ValueError, match="today"):
        evaluate(parse("${d} < today()"), {"d": "2024-01-01"})

    assert evaluate(parse("true() or today() > '2024-01-01'"), {}) is True


def test_today_accepts_a_datetime() -> None:
    tree = parse("today() = '2024-03-15'")
    assert evaluate(tree, {}, today=datetime(2024, 3, 15, 23, 59)) is True


def test_evaluate_refuses_unknown_functions_of_unchecked_trees() -> None:
    with pytest.raises(ExpressionTypeError, match="unknown function 'foo'"):
        evaluate(parse("foo(1)"), {})
    with pytest.raises(ExpressionTypeError, match=r"not\(\) takes 1 argument, not 0"):
        evaluate(parse("not()"), {})


def test_evaluate_returns_a_python_bool() -> None:
    assert evaluate(parse("${n} + 1"), {"n": 1}) is True
    assert evaluate(parse("${t}"), {"t": []}) is False
    assert evaluate(parse("'x'"), {}) is True


# --- Properties -----------------------------------------------------------------------------

_FRAGMENTS = [
    "${q}",
    "${",
    "}",
    "$",
    ".",
    "(",
    ")",
    ",",
    "'",
    '"',
    "'a'",
    "1",
    "2.5",
    "-",
    "+",
    "*",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    " and ",
    " or ",
    " div ",
    " mod ",
    "AND",
    "selected(",
    "count-selected(",
    "not(",
    "today()",
    "true()",
    "if(",
    "regex(",
    "coalesce(",
    " ",
    "x",
    "__import__",
    "#",
    "\\",
    "\n",
]


@settings(max_examples=300)
@given(st.text() | st.lists(st.sampled_from(_FRAGMENTS), max_size=30).map("".join))
def test_parse_returns_a_tree_or_a_syntax_error(text: str) -> None:
    try:
        tree = parse(text)
    except ExpressionSyntaxError as error:
        assert error.position is not None
        assert 0 <= error.position <= len(text)
        return
    assert parse(unparse(tree)) == tree


def _numbers() -> st.SearchStrategy[str]:
    leaves = st.one_of(
        st.sampled_from(["${nights}", "${budget}", "count-selected(${topics})"]),
        st.sampled_from(["string-length(${name})", "number(${name})", "number(today())"]),
        st.sampled_from(["number(${arrival})", "0", "1", "-3", "2.5", "0.0"]),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "div", "mod"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            inner.map(lambda t: f"-{t}"),
            st.tuples(inner, inner).map(lambda t: f"coalesce({t[0]}, {t[1]})"),
        ),
        max_leaves=6,
    )


def _comparisons() -> st.SearchStrategy[str]:
    ordering = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
    numeric = st.tuples(_numbers(), ordering, _numbers()).map(" ".join)
    dates = st.tuples(
        st.sampled_from(["${arrival}", "today()", "'2024-02-29'"]),
        ordering,
        st.sampled_from(["${arrival}", "today()", "'1999-12-31'"]),
    ).map(" ".join)
    texts = st.tuples(
        st.sampled_from(["${name}", "${country}", "'x'", "''"]),
        ordering,
        st.sampled_from(["${name}", "'fr'", "''"]),
    ).map(" ".join)
    emptiness = st.tuples(
        st.sampled_from(["${topics}", "${nights}", "${arrival}", "${agree}"]),
        st.sampled_from(["=", "!="]),
    ).map(lambda t: f"{t[0]} {t[1]} ''")
    calls = st.sampled_from(
        [
            "selected(${topics}, 'visa')",
            "selected(${country}, 'de')",
            "regex(${name}, '[a-z]+')",
            "true()",
            "false()",
        ]
    )
    leaves = st.one_of(numeric, dates, texts, emptiness, calls)
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            inner.map(lambda t: f"not({t})"),
            st.tuples(inner, inner, inner).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
        ),
        max_leaves=5,
    )


def _maybe(values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.none(), st.just(""), values)


_ANSWERS = st.fixed_dictionaries(
    {},
    optional={
        "name": _maybe(st.text(max_size=10)),
        "country": _maybe(st.sampled_from(["fr", "de"])),
        "agree": _maybe(st.sampled_from(["yes", "no"])),
        "topics": _maybe(st.lists(st.sampled_from(["visa", "rail", "hotel"]), unique=True)),
        "nights": _maybe(st.integers() | st.floats()),
        "budget": _maybe(st.integers(min_value=-(10**400), max_value=10**400) | st.floats()),
        "arrival": _maybe(st.dates().map(date.isoformat)),
    },
)


@settings(max_examples=300)
@given(text=_comparisons(), answers=_ANSWERS, today=st.dates())
def test_well_typed_conditions_always_evaluate(
    text: str, answers: dict[str, object], today: date
) -> None:
    tree = parse(text)
    assert check(tree, TYPES, current=None, choices=CHOICES) is ValueType.BOOLEAN

    result = evaluate(tree, answers, today=today)

    assert isinstance(result, bool)
    assert parse(unparse(tree)) == tree


# --- choice filters, string functions, refused XLSForm functions --------------------------------


def test_bare_names_are_choice_columns_only_in_a_filter() -> None:
    with pytest.raises(ExpressionSyntaxError):
        parse("country = ${country}")
    tree = parse("country = ${country} and name != 'x'", fields=True)
    fields = {"country": ValueType.STRING, "name": ValueType.STRING}

    assert check(tree, TYPES, current=None, choices={}, fields=fields) is ValueType.BOOLEAN
    assert evaluate(tree, {"country": "sen"}, fields={"country": "sen", "name": "dakar"})
    assert not evaluate(tree, {"country": "mex"}, fields={"country": "sen", "name": "dakar"})
    assert unparse(tree) == "((country = ${country}) and (name != 'x'))"


def test_an_unknown_choice_column() -> None:
    tree = parse("region = ${country}", fields=True)

    with pytest.raises(ExpressionTypeError) as caught:
        check(tree, TYPES, current=None, choices={}, fields={"name": ValueType.STRING})

    assert caught.value.detail == "unknown choice column 'region' (the choices have: name)"


def test_a_column_of_codes_compares_with_numbers() -> None:
    tree = parse("level <= ${nights}", fields=True)
    fields = {"level": ValueType.STRING}

    assert check(tree, TYPES, current=None, choices={}, fields=fields) is ValueType.BOOLEAN
    assert evaluate(tree, {"nights": 3}, fields={"level": "2"})
    assert not evaluate(tree, {"nights": 3}, fields={"level": "12"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("contains(${name}, 'min')", True),
        ("starts-with(${name}, 'Am')", True),
        ("ends-with(${name}, 'x')", False),
        ("contains(${topics}, 'visa')", True),
    ],
)
def test_string_functions(text: str, expected: bool) -> None:
    tree = parse(text)
    check(tree, TYPES, current=None, choices={})

    assert evaluate(tree, {"name": "Amina", "topics": ["visa", "rail"]}) is expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("pulldata('codes', 'c', 'k', ${name}) = ''", "pulldata() reads a CSV file attached"),
        ("position(..) = 1", None),
        ("now() > today()", "now() needs times of day, which are not supported: use today()"),
    ],
)
def test_xlsform_functions_refused_say_why(text: str, reason: str | None) -> None:
    try:
        tree = parse(text)
    except ExpressionSyntaxError:
        assert reason is None  # '..' does not even parse
        return
    with pytest.raises(ExpressionTypeError) as caught:
        check(tree, TYPES, current=None, choices={})
    assert reason is not None and caught.value.detail.startswith(reason)


def test_qualified_references() -> None:
    tree = parse("${return/engaged} = 'yes'")

    assert references(tree) == ["return/engaged"]
