"""Skip logic and answer checks: a small, safe expression language in the XLSForm style.

A survey author writes ``relevant: "${visited} = 'yes' and ${nights} > 2"`` or
``constraint: ". >= 0 and . <= 31"``. :func:`parse` turns the text into an immutable tree (there
is no Python ``eval`` anywhere), :func:`check` verifies it once, when the survey is loaded,
against the questions asked before, and :func:`evaluate` runs it against a delegate's answers.

Grammar, lowest precedence first; every binary operator is left-associative::

    or        := and ("or" and)*
    and       := equality ("and" equality)*
    equality  := ordering (("=" | "!=") ordering)*
    ordering  := additive (("<" | "<=" | ">" | ">=") additive)*
    additive  := product (("+" | "-") product)*
    product   := unary (("*" | "div" | "mod") unary)*
    unary     := "-"* primary
    primary   := number | 'text' | "text" | "${" id "}" | "." | name "(" args? ")" | "(" or ")"
               | name                      (a choice column, in a choice_filter only)

An unanswered question is XLSForm's empty string: ``${q} = ''`` is true, ordering comparisons
and arithmetic with it are false or empty, and evaluating never raises for answers of the right
shape (a division by zero is empty too).

Example::

    tree = parse("selected(${topics}, 'visa') and ${nights} > 2")
    check(tree, {"topics": ValueType.LIST, "nights": ValueType.NUMBER}, current=None,
          choices={"topics": frozenset({"visa", "rail"})})
    evaluate(tree, {"topics": ["visa"], "nights": 3})    # True
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Literal, NoReturn, TypeAlias, TypeGuard, TypeVar, assert_never

from surveys.errors import ExpressionSyntaxError, ExpressionTypeError

__all__ = [
    "MAX_DEPTH",
    "MAX_NESTING",
    "UNSUPPORTED_FUNCTIONS",
    "Binary",
    "BinaryOp",
    "Call",
    "Current",
    "Expr",
    "Field",
    "Negate",
    "Number",
    "Ref",
    "String",
    "ValueType",
    "check",
    "evaluate",
    "evaluate_value",
    "parse",
    "references",
    "unparse",
]


class ValueType(StrEnum):
    """The type of a value inside an expression (a question's answer, or what a part yields)."""

    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    LIST = "list"
    """The codes chosen in a multiple choice question."""
    NONE = "none"
    """A note: it takes no answer, so it has no value."""


# --- The tree -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Node:
    pos: int = field(default=0, compare=False)
    """Index in the source text where this part starts (for a binary operation: the operator)."""
    source: str = field(default="", compare=False, repr=False)
    """The text parsed; set on the root that :func:`parse` returns, empty on the other nodes."""


@dataclass(frozen=True, kw_only=True)
class String(_Node):
    """A text literal, ``'text'`` or ``"text"`` (no escapes, as in XPath)."""

    value: str


@dataclass(frozen=True, kw_only=True)
class Number(_Node):
    """A number literal; ``-1`` is a literal too (the minus is folded in)."""

    value: int | float


@dataclass(frozen=True, kw_only=True)
class Ref(_Node):
    """``${question}``: the answer to an earlier question."""

    question: str


@dataclass(frozen=True, kw_only=True)
class Current(_Node):
    """``.``: the answer being checked, in a constraint."""


@dataclass(frozen=True, kw_only=True)
class Field(_Node):
    """A bare name in a ``choice_filter``: a column of the choice being filtered (``name``...)."""

    name: str


@dataclass(frozen=True, kw_only=True)
class Negate(_Node):
    """Unary minus on anything but a number literal."""

    operand: Expr


BinaryOp = Literal["or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod"]


@dataclass(frozen=True, kw_only=True)
class Binary(_Node):
    op: BinaryOp
    left: Expr
    right: Expr


@dataclass(frozen=True, kw_only=True)
class Call(_Node):
    """A function call such as ``selected(${q}, 'code')``; ``true()`` and ``false()`` too."""

    name: str
    args: tuple[Expr, ...] = ()


Expr: TypeAlias = String | Number | Ref | Current | Field | Negate | Binary | Call
"""Any node of an expression tree."""

_BINARY: dict[str, tuple[BinaryOp, int]] = {
    "or": ("or", 1),
    "and": ("and", 2),
    "=": ("=", 3),
    "!=": ("!=", 3),
    "<": ("<", 4),
    "<=": ("<=", 4),
    ">": (">", 4),
    ">=": (">=", 4),
    "+": ("+", 5),
    "-": ("-", 5),
    "*": ("*", 6),
    "div": ("div", 6),
    "mod": ("mod", 6),
}
_LOGICAL = frozenset({"and", "or"})
_EQUALITY = frozenset({"=", "!="})
_ORDERING = frozenset({"<", "<=", ">", ">="})

_FUNCTIONS: dict[str, int] = {
    "true": 0,
    "false": 0,
    "today": 0,
    "not": 1,
    "selected": 2,
    "count-selected": 1,
    "string-length": 1,
    "number": 1,
    "if": 3,
    "regex": 2,
    "coalesce": 2,
    "contains": 2,
    "starts-with": 2,
    "ends-with": 2,
}
"""Every function the language knows, with its number of arguments."""

UNSUPPORTED_FUNCTIONS: dict[str, str] = {
    "pulldata": "pulldata() reads a CSV file attached to the form, which a chat survey does not "
    "have: ask the question instead, or put the values in the choices sheet",
    "instance": "instance() reads external or secondary data, which a chat survey does not have: "
    "put the choices in the choices sheet",
    "indexed-repeat": "indexed-repeat() needs repeat groups, which are not supported",
    "position": "position() needs repeat groups, which are not supported",
    "once": "once() sets a value for calculations, which are not supported",
    "now": "now() needs times of day, which are not supported: use today()",
    "random": "random() has no stable value in a chat survey",
    "uuid": "uuid() makes identifiers for calculations, which are not supported",
}
"""XLSForm functions Itinera refuses, with why and what to do instead."""

MAX_NESTING = 32
"""Brackets and calls nested deeper than this are refused (it keeps the parser's stack small)."""
MAX_DEPTH = 100
"""Trees deeper than this are refused, so checking and evaluating never exhaust the stack."""


def _children(node: Expr) -> tuple[Expr, ...]:
    match node:
        case Binary(left=left, right=right):
            return (left, right)
        case Negate(operand=operand):
            return (operand,)
        case Call(args=args):
            return args
        case _:
            return ()


def references(expr: Expr) -> list[str]:
    """The question ids ``expr`` refers to, in order of first appearance, without duplicates."""
    found: dict[str, None] = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Ref):
            found.setdefault(node.question)
        stack.extend(reversed(_children(node)))
    return list(found)


def unparse(expr: Expr) -> str:
    """Canonical text for ``expr``, every binary operation in brackets; it parses back to ``expr``.

    >>> unparse(parse("1 + 2 * ${n}"))
    '(1 + (2 * ${n}))'
    """
    match expr:
        case String(value=value):
            quote = '"' if "'" in value else "'"
            return f"{quote}{value}{quote}"
        case Number(value=value):
            return str(value) if isinstance(value, int) else format(Decimal(repr(value)), "f")
        case Ref(question=question):
            return f"${{{question}}}"
        case Current():
            return "."
        case Field(name=name):
            return name
        case Negate(operand=operand):
            return f"-{unparse(operand)}"
        case Binary(op=op, left=left, right=right):
            return f"({unparse(left)} {op} {unparse(right)})"
        case Call(name=name, args=args):
            return f"{name}({', '.join(unparse(arg) for arg in args)})"
        case _:
            assert_never(expr)


def _text_of(expr: Expr) -> str:
    return expr.source or unparse(expr)


# --- Tokens and parser ----------------------------------------------------------------------


class _Kind(Enum):
    NUMBER = "number"
    STRING = "text"
    REF = "reference"
    DOT = "."
    NAME = "word"
    OP = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    END = "end"


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    text: str
    """As written: ``'a b'`` with its quotes, ``${q1}``, ``<=``, ``count-selected``."""
    pos: int
    value: str | int | float = ""
    """The decoded literal: a string's content, a number, a question id."""


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z_][A-Za-z0-9_]*)*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
_QUESTION_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*(?:/[A-Za-z_][A-Za-z0-9_.-]*)*")
"""A question id; a name repeated in several groups is qualified by its group: ``group/name``."""
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMERIC_TEXT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_KEYWORDS = frozenset({"and", "or", "div", "mod"})
_SYMBOLS = ("!=", "<=", ">=", "=", "<", ">", "+", "-", "*")
_PUNCTUATION = {"(": _Kind.LPAREN, ")": _Kind.RPAREN, ",": _Kind.COMMA}
_CHARACTER_HINTS = {
    "$": "refer to a question as ${id}",
    "!": "use '!=' or not()",
    "&": "use 'and'",
    "|": "use 'or'",
    "/": "use 'div'",
    "%": "use 'mod'",
}


def _syntax_error(text: str, message: str, position: int) -> ExpressionSyntaxError:
    return ExpressionSyntaxError(text, message, position=position)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise _syntax_error(text, f"unterminated string: add the closing {ch}", i)
            tokens.append(_Token(_Kind.STRING, text[i : end + 1], i, text[i + 1 : end]))
            i = end + 1
        elif text.startswith("${", i):
            end = text.find("}", i + 2)
            if end < 0:
                raise _syntax_error(text, "'${' without '}'", i)
            question = text[i + 2 : end]
            if not question:
                raise _syntax_error(text, "empty question reference '${}'", i)
            if not _QUESTION_ID.fullmatch(question):
                raise _syntax_error(text, f"{question!r} is not a valid question id", i + 2)
            tokens.append(_Token(_Kind.REF, text[i : end + 1], i, question))
            i = end + 1
        elif number := _NUMBER.match(text, i):
            tokens.append(_number_token(text, number.group(), i))
            i = number.end()
        elif ch == ".":
            tokens.append(_Token(_Kind.DOT, ch, i))
            i += 1
        elif name := _NAME.match(text, i):
            word = name.group()
            kind = _Kind.OP if word in _KEYWORDS else _Kind.NAME
            tokens.append(_Token(kind, word, i))
            i = name.end()
        elif ch in _PUNCTUATION:
            tokens.append(_Token(_PUNCTUATION[ch], ch, i))
            i += 1
        elif text.startswith("==", i):
            raise _syntax_error(text, "write '=' to compare, not '=='", i)
        else:
            symbol = next((s for s in _SYMBOLS if text.startswith(s, i)), None)
            if symbol is None:
                hint = _CHARACTER_HINTS.get(ch)
                raise _syntax_error(
                    text, f"unexpected character {ch!r}" + (f" ({hint})" if hint else ""), i
                )
            tokens.append(_Token(_Kind.OP, symbol, i))
            i += len(symbol)
    tokens.append(_Token(_Kind.END, "", len(text)))
    return tokens


def _number_token(text: str, literal: str, pos: int) -> _Token:
    value: int | float
    if "." in literal:
        value = float(literal)
        if not math.isfinite(value):
            raise _syntax_error(text, "number is too large", pos)
    else:
        try:
            value = int(literal)
        except ValueError:  # more digits than Python converts
            raise _syntax_error(text, "number is too long", pos) from None
    return _Token(_Kind.NUMBER, literal, pos, value)


def _describe(token: _Token) -> str:
    match token.kind:
        case _Kind.END:
            return "the end"
        case _Kind.NUMBER | _Kind.STRING | _Kind.NAME:
            shown = token.text if token.kind is not _Kind.NAME else repr(token.text)
            return f"{token.kind.value} {shown}"
        case _Kind.REF:
            return token.text
        case _:
            return repr(token.text)


def _lowercase_hint(token: _Token) -> str | None:
    word = token.text.lower()
    if token.kind is _Kind.NAME and word in _KEYWORDS:
        return f"operators are lower case: write {word!r}, not {token.text!r}"
    return None


class _Parser:
    """Recursive descent with precedence climbing over the binary operators."""

    def __init__(self, text: str, *, fields: bool = False) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.nesting = 0
        self.fields = fields

    @property
    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind is not _Kind.END:
            self.index += 1
        return token

    def fail(self, message: str, position: int) -> NoReturn:
        raise _syntax_error(self.text, message, position)

    def parse(self) -> Expr:
        if self.peek.kind is _Kind.END:
            self.fail("empty expression", 0)
        expr = self.binary(1)
        token = self.peek
        if token.kind is not _Kind.END:
            hint = _lowercase_hint(token)
            self.fail(
                hint or f"unexpected {_describe(token)} after a complete expression", token.pos
            )
        return expr

    def binary(self, min_level: int) -> Expr:
        left = self.unary()
        while True:
            token = self.peek
            entry = _BINARY.get(token.text) if token.kind is _Kind.OP else None
            if entry is None or entry[1] < min_level:
                return left
            self.advance()
            op, level = entry
            right = self.binary(level + 1)
            left = Binary(op=op, left=left, right=right, pos=token.pos)

    def unary(self) -> Expr:
        minuses: list[int] = []
        while self.peek.kind is _Kind.OP and self.peek.text == "-":
            minuses.append(self.advance().pos)
        operand = self.primary()
        for pos in reversed(minuses):
            if isinstance(operand, Number):
                operand = Number(value=-operand.value, pos=pos)
            else:
                operand = Negate(operand=operand, pos=pos)
        return operand

    def primary(self) -> Expr:
        token = self.advance()
        match token.kind:
            case _Kind.NUMBER:
                assert not isinstance(token.value, str)
                return Number(value=token.value, pos=token.pos)
            case _Kind.STRING:
                return String(value=str(token.value), pos=token.pos)
            case _Kind.REF:
                return Ref(question=str(token.value), pos=token.pos)
            case _Kind.DOT:
                return Current(pos=token.pos)
            case _Kind.LPAREN:
                self.enter(token)
                inner = self.binary(1)
                self.close("missing ')'")
                self.nesting -= 1
                return inner
            case _Kind.NAME if self.peek.kind is _Kind.LPAREN:
                return self.call(token)
            case _Kind.NAME if self.fields and token.text not in ("true", "false"):
                return Field(name=token.text, pos=token.pos)
            case _Kind.NAME:
                self.fail(self.unknown_word(token.text), token.pos)
            case _:
                self.fail(f"expected a value, found {_describe(token)}", token.pos)

    def call(self, name: _Token) -> Call:
        self.enter(self.advance())
        args: list[Expr] = []
        if self.peek.kind is _Kind.RPAREN:
            self.advance()
        else:
            while True:
                args.append(self.binary(1))
                if self.peek.kind is not _Kind.COMMA:
                    break
                self.advance()
            self.close("missing ',' or ')'")
        self.nesting -= 1
        return Call(name=name.text, args=tuple(args), pos=name.pos)

    def enter(self, bracket: _Token) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            self.fail("the expression is nested too deeply", bracket.pos)

    def close(self, missing: str) -> None:
        token = self.peek
        if token.kind is _Kind.RPAREN:
            self.advance()
        elif token.kind is _Kind.END:
            self.fail("missing ')'", token.pos)
        else:
            self.fail(_lowercase_hint(token) or f"{missing} before {_describe(token)}", token.pos)

    @staticmethod
    def unknown_word(word: str) -> str:
        if word in ("true", "false"):
            return f"{word!r} needs brackets: {word}()"
        if hint := _lowercase_hint(_Token(_Kind.NAME, word, 0)):
            return hint
        return f"unknown word {word!r} (put text in quotes, and question ids in ${{...}})"


def _depth(expr: Expr) -> int:
    deepest = 0
    stack = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in _children(node))
    return deepest


def parse(text: str, *, fields: bool = False) -> Expr:
    """Parse ``text`` into a tree whose root remembers ``text`` as its ``source``.

    With ``fields``, a bare name is a :class:`Field` (a column of the choice being filtered, as
    in a ``choice_filter``); elsewhere it is refused. Raises
    :class:`~surveys.errors.ExpressionSyntaxError` with the position of the problem.
    """
    expr = _Parser(text, fields=fields).parse()
    if _depth(expr) > MAX_DEPTH:
        raise _syntax_error(text, "the expression is nested too deeply", 0)
    return dataclasses.replace(expr, source=text)


# --- Type checking --------------------------------------------------------------------------


def _is_empty_literal(node: Expr) -> bool:
    return isinstance(node, String) and node.value == ""


def _is_date_literal(node: Expr) -> bool:
    return isinstance(node, String) and _as_date(node.value) is not None


def _arguments(count: int) -> str:
    return "no arguments" if count == 0 else f"{count} argument" + ("" if count == 1 else "s")


def _call_problem(node: Call) -> str | None:
    """What is wrong with the function name or the number of arguments, if anything."""
    arity = _FUNCTIONS.get(node.name)
    if arity is None and node.name in UNSUPPORTED_FUNCTIONS:
        return UNSUPPORTED_FUNCTIONS[node.name]
    if arity is None:
        close = difflib.get_close_matches(node.name, _FUNCTIONS, n=1)
        hint = f" (did you mean {close[0]}()?)" if close else ""
        return f"unknown function {node.name!r}{hint}"
    if len(node.args) != arity:
        return f"{node.name}() takes {_arguments(arity)}, not {len(node.args)}"
    return None


class _Checker:
    def __init__(
        self,
        source: str,
        types: Mapping[str, ValueType],
        *,
        current: ValueType | None,
        choices: Mapping[str, frozenset[str]],
        current_choices: frozenset[str] | None,
        fields: Mapping[str, ValueType] | None = None,
    ) -> None:
        self.source = source
        self.types = types
        self.current = current
        self.choices = choices
        self.current_choices = current_choices
        self.fields = fields

    def fail(self, node: Expr, message: str) -> NoReturn:
        raise ExpressionTypeError(self.source, message, position=node.pos)

    def type_of(self, node: Expr) -> ValueType:
        """The node's type; LIST included (callers that cannot take a list use :meth:`value`)."""
        match node:
            case String():
                return ValueType.STRING
            case Number():
                return ValueType.NUMBER
            case Ref(question=question):
                kind = self.types.get(question)
                if kind is None:
                    self.fail(node, f"unknown question {question!r}")
                if kind is ValueType.NONE:
                    self.fail(node, f"{question!r} is a note and has no value")
                return kind
            case Current():
                if self.current is None:
                    self.fail(node, "'.' can only be used in a constraint")
                if self.current is ValueType.NONE:
                    self.fail(node, "'.' has no value: this question takes no answer")
                return self.current
            case Field(name=name):
                if self.fields is None:
                    self.fail(node, _Parser.unknown_word(name))
                kind = self.fields.get(name)
                if kind is None:
                    known = ", ".join(sorted(self.fields))
                    self.fail(node, f"unknown choice column {name!r} (the choices have: {known})")
                return kind
            case Negate(operand=operand):
                kind = self.value(operand)
                if kind is not ValueType.NUMBER:
                    self.fail(operand, f"'-' needs a number, not {kind}")
                return ValueType.NUMBER
            case Binary():
                return self.binary(node)
            case Call():
                return self.call(node)
            case _:
                assert_never(node)

    def value(self, node: Expr) -> ValueType:
        """The node's type where a multiple choice answer cannot be used as such."""
        kind = self.type_of(node)
        if kind is ValueType.LIST:
            name = f"{node.question!r}" if isinstance(node, Ref) else "'.'"
            self.fail(
                node,
                f"{name} is multiple choice: use it in selected() or count-selected(), "
                "or compare it with ''",
            )
        return kind

    def condition(self, node: Expr) -> ValueType:
        kind = self.value(node)
        if kind is not ValueType.BOOLEAN:
            self.fail(node, f"the condition must be true or false, not {kind}")
        return kind

    def binary(self, node: Binary) -> ValueType:
        op, left, right = node.op, node.left, node.right
        if op in _LOGICAL:
            for side in (left, right):
                kind = self.value(side)
                if kind is not ValueType.BOOLEAN:
                    self.fail(side, f"'{op}' needs true or false on both sides, not {kind}")
            return ValueType.BOOLEAN
        if op in _EQUALITY and (_is_empty_literal(left) or _is_empty_literal(right)):
            self.type_of(right if _is_empty_literal(left) else left)  # any answer can be empty
            return ValueType.BOOLEAN
        if op in _EQUALITY or op in _ORDERING:
            left_type, right_type = self.value(left), self.value(right)
            if op in _ORDERING and ValueType.BOOLEAN in (left_type, right_type):
                self.fail(node, f"cannot use '{op}' on true or false")
            self.comparable(node, left, left_type, right, right_type)
            self.known_code(left, right)
            self.known_code(right, left)
            return ValueType.BOOLEAN
        for side in (left, right):
            kind = self.value(side)
            if kind is not ValueType.NUMBER:
                self.fail(side, f"'{op}' needs numbers, not {kind}")
        return ValueType.NUMBER

    def comparable(
        self, node: Binary, left: Expr, left_type: ValueType, right: Expr, right_type: ValueType
    ) -> None:
        if left_type is right_type:
            return
        if (isinstance(left, Field) or isinstance(right, Field)) and {left_type, right_type} == {
            ValueType.STRING,
            ValueType.NUMBER,
        }:
            return  # a spreadsheet column of codes: '1' and 1 are the same code there
        if {left_type, right_type} == {ValueType.DATE, ValueType.STRING}:
            text = right if left_type is ValueType.DATE else left
            if _is_date_literal(text):
                return
            if isinstance(text, String):
                self.fail(text, f"{text.value!r} is not a date: write dates as 'YYYY-MM-DD'")
        self.fail(node, f"cannot compare {left_type} with {right_type}")

    def codes_of(self, node: Expr) -> tuple[str, frozenset[str]] | None:
        """For a single choice answer, its name in messages and the codes it may take."""
        if isinstance(node, Ref) and self.types.get(node.question) is ValueType.STRING:
            codes = self.choices.get(node.question)
            return None if codes is None else (repr(node.question), codes)
        if isinstance(node, Current) and self.current is ValueType.STRING:
            codes = self.current_choices
            return None if codes is None else ("this question", codes)
        return None

    def known_code(self, answer: Expr, literal: Expr) -> None:
        known = self.codes_of(answer)
        if known is not None and isinstance(literal, String) and literal.value:
            self.require_code(literal, *known)

    def require_code(self, literal: String, name: str, codes: frozenset[str]) -> None:
        if literal.value not in codes:
            self.fail(literal, f"{literal.value!r} is not a choice of {name}")

    def call(self, node: Call) -> ValueType:
        problem = _call_problem(node)
        if problem is not None:
            self.fail(node, problem)
        args = node.args
        match node.name:
            case "true" | "false":
                return ValueType.BOOLEAN
            case "today":
                return ValueType.DATE
            case "not":
                kind = self.value(args[0])
                if kind is not ValueType.BOOLEAN:
                    self.fail(args[0], f"not() needs true or false, not {kind}")
                return ValueType.BOOLEAN
            case "selected":
                self.selected(*args)
                return ValueType.BOOLEAN
            case "count-selected":
                kind = self.type_of(args[0])
                if kind is not ValueType.LIST:
                    self.fail(
                        args[0], f"count-selected() needs a multiple choice answer, not {kind}"
                    )
                return ValueType.NUMBER
            case "string-length":
                kind = self.value(args[0])
                if kind is ValueType.BOOLEAN:
                    self.fail(args[0], "string-length() needs text, not boolean")
                return ValueType.NUMBER
            case "number":
                self.value(args[0])
                return ValueType.NUMBER
            case "if":
                kind = self.value(args[0])
                if kind is not ValueType.BOOLEAN:
                    self.fail(args[0], f"the condition of if() must be true or false, not {kind}")
                return self.same(node, args[1], args[2])
            case "regex":
                self.regex(*args)
                return ValueType.BOOLEAN
            case "coalesce":
                return self.same(node, args[0], args[1])
            case "contains" | "starts-with" | "ends-with":
                for arg in args:
                    kind = self.type_of(arg)
                    if kind is ValueType.BOOLEAN:
                        self.fail(arg, f"{node.name}() needs text, not boolean")
                return ValueType.BOOLEAN
        raise AssertionError(node.name)  # pragma: no cover - _call_problem knows every name

    def selected(self, answer: Expr, code: Expr) -> None:
        known: tuple[str, frozenset[str] | None]
        kind = self.type_of(answer)
        if isinstance(answer, Ref):
            codes = self.choices.get(answer.question)
            if codes is None:
                self.fail(
                    answer,
                    f"selected() needs a choice question, and {answer.question!r} is not one",
                )
            known = (repr(answer.question), codes)
        elif isinstance(answer, Current):
            if kind is not ValueType.LIST and self.current_choices is None:
                self.fail(answer, "selected() needs a choice question, and this one is not")
            known = ("this question", self.current_choices)
        else:
            self.fail(answer, "selected() needs a choice question first, such as ${q}")
        code_type = self.value(code)
        if code_type is not ValueType.STRING:
            self.fail(code, f"selected() needs a choice code in quotes, not {code_type}")
        name, codes = known
        if codes is not None and isinstance(code, String):
            self.require_code(code, name, codes)

    def regex(self, subject: Expr, pattern: Expr) -> None:
        kind = self.value(subject)
        if kind is ValueType.BOOLEAN:
            self.fail(subject, "regex() needs text, not boolean")
        if not isinstance(pattern, String):
            self.fail(pattern, "the pattern of regex() must be text in quotes")
        try:
            re.compile(pattern.value)
        except (re.error, RecursionError, OverflowError) as error:
            where = (
                pattern.pos + 1 + error.pos
                if isinstance(error, re.error) and error.pos is not None
                else None
            )
            message = error.msg if isinstance(error, re.error) else str(error)
            raise ExpressionTypeError(
                self.source,
                f"bad pattern in regex(): {message}",
                position=pattern.pos if where is None else where,
            ) from None

    def same(self, node: Call, first: Expr, second: Expr) -> ValueType:
        """The common type of two alternatives (if() branches, coalesce() arguments)."""
        first_type, second_type = self.value(first), self.value(second)
        if first_type is second_type or _is_empty_literal(first):
            return second_type
        if _is_empty_literal(second):
            return first_type
        if first_type is ValueType.DATE and _is_date_literal(second):
            return ValueType.DATE
        if second_type is ValueType.DATE and _is_date_literal(first):
            return ValueType.DATE
        self.fail(node, f"{node.name}() mixes {first_type} and {second_type}")


def check(
    expr: Expr,
    types: Mapping[str, ValueType],
    *,
    current: ValueType | None,
    choices: Mapping[str, frozenset[str]],
    current_choices: frozenset[str] | None = None,
    fields: Mapping[str, ValueType] | None = None,
) -> ValueType:
    """Verify that ``expr`` is a well-typed condition; return :attr:`ValueType.BOOLEAN`.

    ``types`` gives the questions that may be referred to; ``current`` the type of ``.`` (None
    outside a constraint); ``choices`` the codes of each choice question; ``current_choices``
    the codes of the question being constrained, if it is one, so ``. = 'x'`` can be checked;
    ``fields`` the columns of the choices a ``choice_filter`` may name (None elsewhere).
    Raises :class:`~surveys.errors.ExpressionTypeError` at the first problem found.
    """
    checker = _Checker(
        _text_of(expr),
        types,
        current=current,
        choices=choices,
        current_choices=current_choices,
        fields=fields,
    )
    return checker.condition(expr)


# --- Evaluation -----------------------------------------------------------------------------

_EPOCH = date(1970, 1, 1)
_Comparable = TypeVar("_Comparable", int, float, str, date)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_empty(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, list | tuple) and not value)


def _answer(value: object) -> object:
    """An answer as the evaluator sees it: NaN is unanswered, a datetime its date."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    return value


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _number(value: object) -> int | float | None:
    """XPath's number(): None (empty) when the value is not a number."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    day = _as_date(value)
    if day is not None:  # a date, or a date answer stored as an ISO string
        return (day - _EPOCH).days
    if isinstance(value, str):
        text = value.strip()
        if not _NUMERIC_TEXT.fullmatch(text):
            return None
        try:
            return float(text) if "." in text else int(text)
        except ValueError:
            return None
    return None


def _text(value: object) -> str:
    """XPath's string(): how a value reads as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # more digits than Python converts
            return ""
    if isinstance(value, float):
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, date):
        day = _as_date(value)
        return "" if day is None else day.isoformat()
    if isinstance(value, list | tuple):
        return " ".join(_text(item) for item in value)
    return str(value)


def _truthy(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if _is_number(value):
        return value != 0
    if isinstance(value, str | list | tuple):
        return len(value) > 0
    return True


def _sign(left: _Comparable, right: _Comparable) -> int:
    return (left > right) - (left < right)


def _compare(left: object, right: object) -> int | None:
    """-1, 0 or 1 as ``left`` is below, equal to or above ``right``; None if they do not compare."""
    if isinstance(left, bool) or isinstance(right, bool):
        if isinstance(left, bool) and isinstance(right, bool):
            return _sign(int(left), int(right))
        return None
    if _is_number(left) and _is_number(right):
        return _sign(left, right)
    if isinstance(left, date) or isinstance(right, date):
        left_day, right_day = _as_date(left), _as_date(right)
        return None if left_day is None or right_day is None else _sign(left_day, right_day)
    if _is_number(left) or _is_number(right):
        left_number, right_number = _number(left), _number(right)
        if left_number is None or right_number is None:
            return None
        return _sign(left_number, right_number)
    if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
        left_day, right_day = _as_date(left), _as_date(right)
        if left_day is not None and right_day is not None:
            return _sign(left_day, right_day)
        return _sign(_text(left), _text(right))
    return None


def _comparison(op: str, left: object, right: object) -> bool:
    if op in _EQUALITY:
        if _is_empty(left) or _is_empty(right):
            equal = _is_empty(left) and _is_empty(right)
        else:
            equal = _compare(left, right) == 0
        return equal if op == "=" else not equal
    if _is_empty(left) or _is_empty(right):
        return False
    order = _compare(left, right)
    if order is None:
        return False
    match op:
        case "<":
            return order < 0
        case "<=":
            return order <= 0
        case ">":
            return order > 0
        case _:
            return order >= 0


def _arithmetic(op: str, left: object, right: object) -> int | float | None:
    x, y = _number(left), _number(right)
    if x is None or y is None:
        return None
    result: int | float
    try:
        if op == "+":
            result = x + y
        elif op == "-":
            result = x - y
        elif op == "*":
            result = x * y
        elif y == 0:
            return None
        elif op == "div":
            result = x / y
        elif isinstance(x, int) and isinstance(y, int):
            result = abs(x) % abs(y) * (1 if x >= 0 else -1)  # XPath: the sign of the dividend
        else:
            result = math.fmod(x, y)
    except (OverflowError, ValueError):
        return None
    return None if isinstance(result, float) and math.isnan(result) else result


def _selected(answer: object, code: object) -> bool:
    if _is_empty(answer) or _is_empty(code):
        return False
    wanted = _text(code)
    if isinstance(answer, list | tuple):
        return any(_text(item) == wanted for item in answer)
    return _text(answer) == wanted


def _count_selected(answer: object) -> int:
    if isinstance(answer, list | tuple):
        return len(answer)
    return len(_text(answer).split())


def _matches(subject: object, pattern: object) -> bool:
    try:
        return re.fullmatch(_text(pattern), _text(subject)) is not None
    except (re.error, RecursionError, OverflowError):
        return False


class _Evaluator:
    def __init__(
        self,
        source: str,
        answers: Mapping[str, object],
        current: object,
        today: date | None,
        fields: Mapping[str, object] | None = None,
    ) -> None:
        self.source = source
        self.answers = answers
        self.current = _answer(current)
        self.today = today.date() if isinstance(today, datetime) else today
        self.fields = fields or {}

    def value(self, node: Expr) -> object:
        match node:
            case String(value=text):
                return text
            case Number(value=number):
                return number
            case Ref(question=question):
                return _answer(self.answers.get(question))
            case Current():
                return self.current
            case Field(name=name):
                return _answer(self.fields.get(name))
            case Negate(operand=operand):
                negated = _number(self.value(operand))
                return None if negated is None else -negated
            case Binary(op=op, left=left, right=right):
                if op == "and":
                    return _truthy(self.value(left)) and _truthy(self.value(right))
                if op == "or":
                    return _truthy(self.value(left)) or _truthy(self.value(right))
                if op in _EQUALITY or op in _ORDERING:
                    return _comparison(op, self.value(left), self.value(right))
                return _arithmetic(op, self.value(left), self.value(right))
            case Call():
                return self.call(node)
            case _:
                assert_never(node)

    def call(self, node: Call) -> object:
        problem = _call_problem(node)
        if problem is not None:
            raise ExpressionTypeError(self.source, problem, position=node.pos)
        args = node.args
        match node.name:
            case "true":
                return True
            case "false":
                return False
            case "today":
                if self.today is None:
                    raise ValueError(f"{self.source!r} uses today(): pass evaluate(..., today=)")
                return self.today
            case "not":
                return not _truthy(self.value(args[0]))
            case "selected":
                return _selected(self.value(args[0]), self.value(args[1]))
            case "count-selected":
                return _count_selected(self.value(args[0]))
            case "string-length":
                return len(_text(self.value(args[0])))
            case "number":
                return _number(self.value(args[0]))
            case "if":
                return self.value(args[1] if _truthy(self.value(args[0])) else args[2])
            case "regex":
                return _matches(self.value(args[0]), self.value(args[1]))
            case "coalesce":
                first = self.value(args[0])
                return self.value(args[1]) if _is_empty(first) else first
            case "contains":
                return _text(self.value(args[1])) in _text(self.value(args[0]))
            case "starts-with":
                return _text(self.value(args[0])).startswith(_text(self.value(args[1])))
            case "ends-with":
                return _text(self.value(args[0])).endswith(_text(self.value(args[1])))
        raise AssertionError(node.name)  # pragma: no cover - _call_problem knows every name


def evaluate_value(
    expr: Expr,
    answers: Mapping[str, object],
    *,
    current: object = None,
    today: date | None = None,
    fields: Mapping[str, object] | None = None,
) -> object:
    """The value of ``expr``: a bool, number, str, date or list, or None when it is empty.

    ``fields`` are the columns of the choice a ``choice_filter`` is tested on.
    Raises ``ValueError`` only if ``today()`` is reached and ``today`` was not given.
    """
    return _Evaluator(_text_of(expr), answers, current, today, fields).value(expr)


def evaluate(
    expr: Expr,
    answers: Mapping[str, object],
    *,
    current: object = None,
    today: date | None = None,
    fields: Mapping[str, object] | None = None,
) -> bool:
    """Whether the (checked) condition ``expr`` holds for ``answers``.

    ``answers`` maps question ids to answers (a code, text or ISO date as str; a number; a list
    of codes); a missing id or None is unanswered. ``current`` is the value of ``.``; ``fields``
    the columns of the choice being filtered.
    """
    return _truthy(evaluate_value(expr, answers, current=current, today=today, fields=fields))
