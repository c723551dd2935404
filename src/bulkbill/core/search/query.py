"""The AST of a search query: clauses of field, operator and value, joined by AND or by OR.

Pure data: the grammar (grammar.py) builds it, `check` types it against a resource's searchable
fields, and storage/search.py turns it into SQL conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput, Path

# Stripe's limits: at most 10 clauses in one query, substrings of at least 3 characters.
MAX_CLAUSES = 10
MIN_SUBSTRING = 3


class Op(StrEnum):
    EXACT = ":"
    SUBSTRING = "~"
    EQ = "="
    GT = ">"
    GTE = ">="
    LT = "<"
    LTE = "<="


class Join(StrEnum):
    AND = "AND"
    OR = "OR"


class Kind(StrEnum):
    """What a searchable field holds, which decides the operators it takes."""

    TOKEN = "token"  # exact, case-sensitive (`:`)
    STRING = "string"  # exact case-insensitive (`:`), substring (`~`)
    NUMBER = "number"  # `:` `=` `>` `>=` `<` `<=` on whole numbers (amounts, Unix times)
    BOOLEAN = "boolean"  # `:` true or false
    METADATA = "metadata"  # metadata["key"]: exact value, or null for a key that is absent


class Null:
    """The bare word `null`: the field (a metadata key) is absent."""

    def __repr__(self) -> str:
        return "null"


NULL = Null()


@dataclass(frozen=True)
class Literal:
    """A value as written: `quoted` tells "1" from 1 and "null" from null."""

    text: str
    quoted: bool


Value = str | int | bool | Null


@dataclass(frozen=True)
class Clause:
    field: str
    op: Op
    value: Value
    negated: bool = False
    key: str | None = None  # metadata["key"]


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...]
    join: Join = Join.AND


@dataclass(frozen=True)
class RawClause:
    """A clause straight from the grammar, before its field says what its value may be."""

    field: str
    op: Op
    value: Literal
    negated: bool
    key: str | None
    column: int  # where it starts in the query (1-based), for error messages


def _operators(kind: Kind) -> tuple[Op, ...]:
    if kind is Kind.STRING:
        return (Op.EXACT, Op.SUBSTRING)
    if kind is Kind.NUMBER:
        return (Op.EXACT, Op.EQ, Op.GT, Op.GTE, Op.LT, Op.LTE)
    return (Op.EXACT,)


def _refusal(path: Path, message: str) -> InvalidInput:
    return InvalidInput([FieldError(path, ErrorCode.PARAMETER_INVALID, message)])


def _typed(raw: RawClause, kind: Kind, path: Path) -> Value:
    """The clause's value for its field's kind (a refusal saying why when it cannot be one)."""
    literal, name = raw.value, raw.field if raw.key is None else f'{raw.field}["{raw.key}"]'
    if kind is Kind.NUMBER:
        digits = literal.text.removeprefix("-")
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
            raise _refusal(path, f"The value of {name} must be a whole number, not {literal.text!r}.")
        return int(literal.text)
    if kind is Kind.BOOLEAN:
        if literal.text not in ("true", "false"):
            raise _refusal(path, f"The value of {name} must be true or false, not {literal.text!r}.")
        return literal.text == "true"
    if not literal.quoted:
        if kind is Kind.METADATA and literal.text == "null":
            return NULL
        raise _refusal(path, f'String values must be quoted: {name}{raw.op}"{literal.text}".')
    if raw.op is Op.SUBSTRING and len(literal.text) < MIN_SUBSTRING:
        raise _refusal(
            path, f"A substring search (~) needs at least {MIN_SUBSTRING} characters: {name}~{literal.text!r}."
        )
    return literal.text


def check(clauses: list[RawClause], join: Join, fields: Mapping[str, Kind], resource: str, path: Path) -> Query:
    """A query only names fields the resource can be searched by, each with an operator and value its kind takes."""
    if len(clauses) > MAX_CLAUSES:
        raise _refusal(path, f"A search query has at most {MAX_CLAUSES} clauses; this one has {len(clauses)}.")
    out = []
    for raw in clauses:
        kind = fields.get(raw.field)
        if kind is None:
            known = ", ".join(sorted(fields))
            raise _refusal(path, f"Field '{raw.field}' is not a search field for {resource}: use one of {known}.")
        if (raw.key is None) != (kind is not Kind.METADATA):
            form = f'{raw.field}["key"]' if kind is Kind.METADATA else raw.field
            raise _refusal(path, f"Write the field as {form} (column {raw.column}).")
        allowed = _operators(kind)
        if raw.op not in allowed:
            ops = " ".join(allowed)
            raise _refusal(
                path, f"The operator {raw.op} does not apply to {raw.field} ({kind} field); use one of: {ops}"
            )
        out.append(Clause(raw.field, raw.op, _typed(raw, kind, path), raw.negated, raw.key))
    return Query(tuple(out), join)
