"""Zuora bodies as JSON: decimals keep every digit, as JSON numbers."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bulkbill.api.zuora.edge.encoding import dumps


def _numbers(text: str) -> object:
    return json.loads(text, parse_float=Decimal)


def test_a_decimal_keeps_its_digits() -> None:
    text = dumps({"unitPrice": Decimal("99999999.999999999"), "amount": Decimal("0.000000001")})
    assert text == '{"unitPrice":99999999.999999999,"amount":0.000000001}'


def test_integral_and_trailing_zeros_read_as_before() -> None:
    body = {"a": Decimal("100.00"), "b": Decimal("33.50"), "c": Decimal("-7"), "d": Decimal("1E+2"), "e": 5}
    assert dumps(body) == '{"a":100,"b":33.5,"c":-7,"d":100,"e":5}'


def test_everything_else_is_plain_json() -> None:
    body = {"s": 'Zürich "quoted"', "n": None, "t": True, "l": [1, {"x": []}], "f": {"a__c": "v"}}
    assert json.loads(dumps(body)) == body


def test_integers_past_64_bits_and_decimals_together() -> None:
    wide = 10**30
    text = dumps({"custom": {"Big__c": wide, "list": [wide, -wide]}, "price": Decimal("1.123456789")})
    assert _numbers(text) == {"custom": {"Big__c": wide, "list": [wide, -wide]}, "price": Decimal("1.123456789")}


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), object()])
def test_what_json_cannot_carry_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        dumps({"x": value})
