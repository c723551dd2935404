"""The search grammar and AST (core/search): what each query reads as, and what it is refused for."""

from __future__ import annotations

import pytest

from bulkbill.core.errors import InvalidInput
from bulkbill.core.search.grammar import parse_query
from bulkbill.core.search.query import NULL, Clause, Join, Kind, Op, Query

FIELDS = {
    "email": Kind.STRING,
    "currency": Kind.TOKEN,
    "created": Kind.NUMBER,
    "active": Kind.BOOLEAN,
    "metadata": Kind.METADATA,
}


def parse(text: str) -> Query:
    return parse_query(text, FIELDS, "things", ("query",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('email:"a@b.c"', Query((Clause("email", Op.EXACT, "a@b.c"),))),
        (
            "email~'ada' and created>=5",
            Query((Clause("email", Op.SUBSTRING, "ada"), Clause("created", Op.GTE, 5)), Join.AND),
        ),
        (
            'currency:"usd" Or -metadata["k"]:null',
            Query((Clause("currency", Op.EXACT, "usd"), Clause("metadata", Op.EXACT, NULL, True, "k")), Join.OR),
        ),
        ('active:"false" created<-1', Query((Clause("active", Op.EXACT, False), Clause("created", Op.LT, -1)))),
        ('metadata["a \\"b\\""]:"c\\\\d"', Query((Clause("metadata", Op.EXACT, "c\\d", key='a "b"'),))),
        ('created="7"', Query((Clause("created", Op.EQ, 7),))),
        ('email:"null"', Query((Clause("email", Op.EXACT, "null"),))),  # quoted: a string, not null
        ('email:"x" email:"y"', Query((Clause("email", Op.EXACT, "x"), Clause("email", Op.EXACT, "y")))),
    ],
)
def test_what_a_query_reads_as(text: str, expected: Query) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('email:"a" or email:"b" email:"c"', "cannot mix AND and OR"),
        ('email:"a" AND email:"b" OR email:"c"', "cannot mix AND and OR"),
        ('OR email:"a"', "cannot be read at column 4 (near 'email')"),  # OR read as a field name
        ('android:"x"', "Field 'android' is not a search field for things"),
        ("email:null", "String values must be quoted"),
        ('currency~"usd"', "The operator ~ does not apply to currency"),
        ('active:"yes"', "must be true or false"),
        ("created>1.5", "must be a whole number"),
        ("created>" + "9" * 19, "must be a whole number"),
        ('metadata["k"]~"abc"', "The operator ~ does not apply to metadata"),
        ('email["k"]:"x"', "Write the field as email"),
        ("", "ends before its last clause is complete"),
    ],
)
def test_what_a_query_is_refused_for(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(text)
    assert refused.value.first.path == ("query",) and message in refused.value.first.message
