"""Stripe's search query language, read by a grammar (lark, LALR) into the AST of query.py.

A query is clauses `field OP value`, optionally negated with a leading `-`, separated by spaces (AND)
or by the keywords AND / OR (any case), which one query may not mix; there are no parentheses. A
metadata field names its key: `metadata["order"]:"42"`. Values are quoted strings (double or single
quotes, backslash escapes) or bare words (numbers, true, false, null), which the field's kind checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput, Path
from bulkbill.core.search.query import Join, Kind, Literal, Op, Query, RawClause, check

GRAMMAR = r"""
start: clause (joiner? clause)*
joiner: AND | OR
clause: NEG? field OP value
field: NAME ("[" STRING "]")?
value: STRING | BARE

OP: ">=" | "<=" | ":" | "~" | ">" | "<" | "="
AND.2: /AND(?![A-Za-z0-9_])/i
OR.2: /OR(?![A-Za-z0-9_])/i
NEG: "-"
NAME: /[A-Za-z_][A-Za-z0-9_.]*/
STRING: /"(?:[^"\\]|\\.)*"/ | /'(?:[^'\\]|\\.)*'/
BARE: /[^\s"'\[\]]+/
%ignore /\s+/
"""

EXAMPLE = 'email:"ada@example.com" AND metadata["plan"]:"pro"'


@cache
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=True)


def _unquote(token: str) -> str:
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            i += 1
        out.append(body[i])
        i += 1
    return "".join(out)


_Field = tuple[str, str | None, int]
_Parsed = tuple[list[RawClause], set[Join]]


class _ToClauses(Transformer[Token, _Parsed]):
    @v_args(inline=True)
    def value(self, token: Token) -> Literal:
        if token.type == "STRING":
            return Literal(_unquote(str(token)), quoted=True)
        return Literal(str(token), quoted=False)

    def field(self, children: list[Token]) -> _Field:
        name = children[0]
        key = _unquote(str(children[1])) if len(children) > 1 else None
        return str(name), key, name.column or 0

    def clause(self, children: list[Any]) -> RawClause:
        negated = isinstance(children[0], Token) and children[0].type == "NEG"
        field: _Field
        op: Token
        value: Literal
        field, op, value = children[1:] if negated else children
        name, key, column = field
        return RawClause(name, Op(str(op)), value, negated, key, column)

    @v_args(inline=True)
    def joiner(self, token: Token) -> Join:
        return Join(str(token).upper())

    def start(self, children: list[Any]) -> _Parsed:
        clauses = [c for c in children if isinstance(c, RawClause)]
        written = [c for c in children if isinstance(c, Join)]
        joins = set(written)
        if len(clauses) - 1 > len(written):
            joins.add(Join.AND)  # clauses separated by a space are joined by AND
        return clauses, joins


def _syntax_message(query: str, error: UnexpectedInput) -> str:
    hint = f"a clause is a field, an operator and a value, e.g. {EXAMPLE}"
    if isinstance(error, UnexpectedEOF) or (isinstance(error, UnexpectedToken) and error.token.type == "$END"):
        return f"The search query ends before its last clause is complete: {hint}."
    column = getattr(error, "column", 0) or 0
    if isinstance(error, UnexpectedCharacters):
        start = error.pos_in_stream or 0
        near = query[start : start + 20]
    else:
        near = str(getattr(error, "token", ""))[:20]
    return f"The search query cannot be read at column {column} (near {near!r}): {hint}."


def parse_query(query: str, fields: Mapping[str, Kind], resource: str, path: Path) -> Query:
    """A query in Stripe's search language, checked against the fields `resource` can be searched by."""
    try:
        tree = _parser().parse(query)
        parsed: _Parsed = _ToClauses().transform(tree)
    except UnexpectedInput as error:
        raise InvalidInput([FieldError(path, ErrorCode.PARAMETER_INVALID, _syntax_message(query, error))]) from None
    except VisitError as error:  # an operator the grammar reads but Op does not know cannot happen: re-raise
        raise error.orig_exc from None
    clauses, joins = parsed
    if len(joins) > 1:
        raise InvalidInput(
            [
                FieldError(
                    path,
                    ErrorCode.PARAMETER_INVALID,
                    "A search query cannot mix AND and OR (clauses separated by spaces are joined by AND); "
                    "there are no parentheses.",
                )
            ]
        )
    return check(clauses, next(iter(joins), Join.AND), fields, resource, path)
