"""Tokenizer and Pratt parser of the formula language (the language and its EBNF grammar are in
:mod:`noxfx.analysis.formula`).

User text is never handed to Python (no ``eval``/``exec``/``ast``): :func:`tokenize` cuts it
into tokens with one regular expression, and :class:`_Parser` reads the tokens by recursive
descent with operator binding powers (Pratt). Every node is built by
:class:`~noxfx.analysis.formula_check.Checker`, which resolves names, checks types and folds
constants, so a :class:`~noxfx.analysis.formula_ast.Formula` coming out of :func:`parse` can only
fail at evaluation for reasons that belong to the bars (a missing column), never to the text.

Safety limits (:mod:`noxfx.analysis.formula_ast`): ``MAX_FORMULA_CHARS`` characters,
``MAX_NESTING`` levels of parentheses / calls / indexing / unary operators / ``**`` chains (the
parser's recursion), and ``MAX_EXPRESSION_DEPTH`` levels of tree height (the evaluator's
recursion), so neither can exhaust the Python stack.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from noxfx.analysis.formula_ast import (
    KEYWORDS,
    MAX_FORMULA_CHARS,
    MAX_NESTING,
    Expr,
    ExprStatement,
    Formula,
    FormulaError,
    Statement,
)
from noxfx.analysis.formula_check import Checker, Keywords
from noxfx.analysis.formula_functions import COMPARISONS
from noxfx.errors import InvalidInput

TokenKind = Literal["number", "name", "op", "end_statement", "eof"]


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind``, its text (names lower-cased) and its 0-based offset."""

    kind: TokenKind
    text: str
    pos: int


_TOKEN_RE = re.compile(
    r"""
    (?P<space>[ \t\r\f\v]+)
  | (?P<comment>\#[^\n]*)
  | (?P<newline>\n)
  | (?P<semicolon>;)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|==|!=|<=|>=|[-+*/%<>()\[\],.=])
    """,
    re.VERBOSE,
)
_CHAR_HINTS = {
    "&": "unexpected '&'; write 'and'",
    "|": "unexpected '|'; write 'or'",
    "!": "unexpected '!'; write 'not' (or '!=' to compare)",
    "'": "unexpected quote; the formula language has no strings",
    '"': "unexpected quote; the formula language has no strings",
}


def tokenize(text: str) -> list[Token]:
    """Cut ``text`` into tokens. Newlines end a statement except inside ``(...)``/``[...]``."""
    tokens: list[Token] = []
    pos, depth = 0, 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            char = text[pos]
            raise FormulaError(_CHAR_HINTS.get(char, f"unexpected character {char!r}"), text, pos)
        kind, value = match.lastgroup, match.group()
        if kind == "number":
            end = match.end()
            if end < len(text) and (text[end].isalnum() or text[end] in "_."):
                raise FormulaError("malformed number", text, pos)
            if not math.isfinite(float(value)):
                raise FormulaError(f"number {value} is too large", text, pos)
            tokens.append(Token("number", value, pos))
        elif kind == "name":
            tokens.append(Token("name", value.lower(), pos))
        elif kind == "op":
            if value in ("(", "["):
                depth += 1
            elif value in (")", "]") and depth > 0:
                depth -= 1
            tokens.append(Token("op", value, pos))
        elif kind == "semicolon" or (kind == "newline" and depth == 0):
            tokens.append(Token("end_statement", value, pos))
        pos = match.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


#: left binding powers of the infix operators (higher binds tighter)
_LEFT_BP = {
    "or": 10,
    "and": 20,
    **dict.fromkeys(COMPARISONS, 40),
    "+": 50,
    "-": 50,
    "*": 60,
    "/": 60,
    "%": 60,
    "**": 80,
}
_NOT_BP = 30  # `not a < b` is `not (a < b)`; `not a and b` is `(not a) and b`
_UNARY_BP = 70  # `-x ** 2` is `-(x ** 2)`; `2 ** -1` is allowed


class _Parser:
    """Recursive descent with binding powers over the tokens of one formula."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.nesting = 0
        self.check = Checker(text)

    # ------------------------------------------------------------------ token helpers
    def error(self, reason: str, pos: int) -> FormulaError:
        return FormulaError(reason, self.text, pos)

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self) -> Token:
        return self.tokens[min(self.i + 1, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def at_op(self, text: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == text

    def at_keyword_argument(self) -> bool:
        """``name =`` (an assignment at the start of a statement, a keyword in a call)."""
        nxt = self.peek()
        return self.tok.kind == "name" and nxt.kind == "op" and nxt.text == "="

    def expect_op(self, text: str, context: str) -> Token:
        if not self.at_op(text):
            raise self.error(f"expected '{text}' {context}, found {self.found()}", self.tok.pos)
        return self.advance()

    def found(self, tok: Token | None = None) -> str:
        tok = tok or self.tok
        if tok.kind == "eof":
            return "the end of the formula"
        if tok.kind == "end_statement":
            return "the end of the line" if tok.text == "\n" else "';'"
        return f"'{tok.text}'"

    def enter(self, pos: int) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.error(f"formula is nested too deeply (more than {MAX_NESTING} levels)", pos)

    def leave(self) -> None:
        self.nesting -= 1

    # ------------------------------------------------------------------ statements
    def parse(self) -> Formula:
        statements: list[Statement] = []
        while True:
            while self.tok.kind == "end_statement":
                self.advance()
            if self.tok.kind == "eof":
                break
            statements.append(self.statement(len(statements)))
            if self.tok.kind not in ("end_statement", "eof"):
                raise self.error(
                    f"unexpected {self.found()} after a complete expression "
                    "(separate statements with ';' or a new line)",
                    self.tok.pos,
                )
        if not statements:
            raise self.error("empty formula; write an expression such as rsi(close, 14) < 30", 0)
        outputs = self.check.outputs(statements)
        return Formula(
            text=self.text,
            statements=tuple(statements),
            outputs=outputs,
            columns=tuple(self.check.columns),
            indicators=tuple(self.check.indicators),
            functions=tuple(self.check.functions),
            variables=tuple(self.check.variables),
            lookback=max(statements[o.statement].value.lookback for o in outputs),
        )

    def statement(self, number: int) -> Statement:
        tok = self.tok
        if self.at_keyword_argument():
            self.check.check_target(tok.text, tok.pos)
            self.advance()
            self.advance()
            return self.check.assign(tok.text, self.expression(), tok.pos, number)
        return ExprStatement(self.expression(), tok.pos)

    # ------------------------------------------------------------------ expressions
    def expression(self, min_bp: int = 0) -> Expr:
        left = self.prefix()
        compared = False
        while True:
            tok = self.tok
            op = tok.text if tok.kind in ("op", "name") else ""
            bp = _LEFT_BP.get(op)
            if bp is None or bp <= min_bp:
                if tok.kind == "op" and tok.text == "=":
                    raise self.error(
                        "unexpected '='; use '==' to compare (assignments are 'name = ...' "
                        "at the start of a statement)",
                        tok.pos,
                    )
                return left
            if op in COMPARISONS:
                if compared:
                    raise self.error("chained comparison; join two comparisons with 'and'", tok.pos)
                compared = True
            self.advance()
            if op == "**":  # right-associative, so a chain recurses: count it as nesting
                self.enter(tok.pos)
                right = self.expression(bp - 1)
                self.leave()
            else:
                right = self.expression(bp)
            left = self.check.binary(op, left, right, tok.pos)

    def prefix(self) -> Expr:
        tok = self.advance()
        if tok.kind == "number":
            return self.postfix(self.check.number(float(tok.text), tok.pos))
        if tok.kind == "op" and tok.text == "(":
            self.enter(tok.pos)
            inner = self.expression()
            column = tok.pos - self.text.rfind("\n", 0, tok.pos)
            self.expect_op(")", f"to close the '(' at column {column}")
            self.leave()
            return self.postfix(inner)
        if tok.kind == "op" and tok.text in ("-", "+"):
            self.enter(tok.pos)
            operand = self.expression(_UNARY_BP)
            self.leave()
            return self.check.unary(tok.text, operand, tok.pos)
        if tok.kind == "name" and tok.text == "not":
            self.enter(tok.pos)
            operand = self.expression(_NOT_BP)
            self.leave()
            return self.check.unary("not", operand, tok.pos)
        if tok.kind == "name" and tok.text in ("true", "false"):
            return self.postfix(self.check.boolean(tok.text == "true", tok.pos))
        if tok.kind == "name" and tok.text not in KEYWORDS:
            if self.at_op("("):
                return self.postfix(self.call(tok))
            return self.postfix(self.check.name(tok.text, tok.pos))
        raise self.error(f"expected a value, found {self.found(tok)}", tok.pos)

    def postfix(self, node: Expr) -> Expr:
        while True:
            tok = self.tok
            if self.at_op("["):
                self.advance()
                self.enter(tok.pos)
                index = self.expression()
                self.expect_op("]", "to close the '['")
                self.leave()
                node = self.check.index(node, index, tok.pos)
            elif self.at_op("."):
                self.advance()
                attr = self.tok
                if attr.kind != "name":
                    raise self.error(
                        f"expected an output name after '.', found {self.found()}", attr.pos
                    )
                self.advance()
                node = self.check.select(node, attr.text, attr.pos)
            elif self.at_op("("):
                raise self.error("only a function name can be called: name(...)", tok.pos)
            else:
                return node

    def call(self, name: Token) -> Expr:
        callee = self.check.callee(name.text, name.pos)
        open_paren = self.advance()
        self.enter(open_paren.pos)
        positional: list[Expr] = []
        keywords: Keywords = []
        while not self.at_op(")"):
            tok = self.tok
            if self.at_keyword_argument():
                self.advance()
                self.advance()
                if any(key == tok.text for key, _, _ in keywords):
                    raise self.error(f"argument '{tok.text}' given twice", tok.pos)
                keywords.append((tok.text, self.expression(), tok.pos))
            elif keywords:
                raise self.error("positional argument after a keyword argument", tok.pos)
            else:
                positional.append(self.expression())
            if not self.at_op(","):
                break
            self.advance()
        self.expect_op(")", f"to close the argument list of {name.text}")
        self.leave()
        return self.check.call(callee, positional, keywords, name.pos)


def parse(text: str) -> Formula:
    """Parse and type-check ``text``; raises :class:`FormulaError` (an ``InvalidInput``)."""
    if not isinstance(text, str):
        raise InvalidInput(f"a formula must be text, got {type(text).__name__}")
    if len(text) > MAX_FORMULA_CHARS:
        raise FormulaError(
            f"formula is too long ({len(text)} characters; the limit is {MAX_FORMULA_CHARS})",
            text,
            MAX_FORMULA_CHARS,
        )
    parser = _Parser(text)
    try:
        return parser.parse()
    except RecursionError:  # a safety net: the nesting limits keep well inside the stack
        raise FormulaError("formula is nested too deeply", text, parser.tok.pos) from None


__all__ = ["Token", "parse", "tokenize"]
