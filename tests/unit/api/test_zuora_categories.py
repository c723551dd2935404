"""One table from core error codes to Zuora categories, whichever router meets the error."""

from __future__ import annotations

import pytest

from bulkbill.api.zuora.edge.errors import CATEGORY_OF, Category, Refused, reasons_for, refusal, render_error
from bulkbill.api.zuora.orders.order_common import zuora_reasons
from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput


def _invalid(code: ErrorCode) -> InvalidInput:
    return InvalidInput([FieldError(("invoices", 0, "invoiceDate"), code, "refused")])


def _categories(codes: list[int]) -> list[int]:
    return [code % 100 for code in codes]


def test_every_code_has_a_category() -> None:
    assert set(CATEGORY_OF) == set(ErrorCode)


@pytest.mark.parametrize("code", list(ErrorCode))
def test_a_code_gets_one_category_through_every_router(code: ErrorCode) -> None:
    # Any router (GET and account routes): the InvalidInput reaches the edge as it is.
    _, direct = reasons_for(_invalid(code))
    # The order, fulfillment and bill-run routers wrap their work in zuora_reasons().
    with pytest.raises(Refused) as wrapped, zuora_reasons():
        raise _invalid(code)
    # The invoice and accounting-period routers name each problem's invoice (refusal with owners).
    named = refusal(_invalid(code), {0: "inv-1"})
    direct_codes = [r["code"] for r in direct]
    assert _categories(direct_codes) == _categories([c for c, _ in wrapped.value.reasons])
    assert _categories(direct_codes) == _categories([c for c, _ in named.reasons]) == [CATEGORY_OF[code]]
    assert named.reasons[0][1] == "Invoice inv-1: invoices[0].invoiceDate: refused"


@pytest.mark.parametrize(
    ("code", "category"),
    [
        (ErrorCode.PARAMETER_MISSING, Category.MISSING_FIELD),
        (ErrorCode.PARAMETER_UNKNOWN, Category.UNKNOWN_FIELD),
        (ErrorCode.RESOURCE_MISSING, Category.NOT_FOUND),
        (ErrorCode.INVALID_JSON, Category.MALFORMED_REQUEST),
        (ErrorCode.INVALID_VALUE, Category.INVALID_VALUE),
        (ErrorCode.CURRENCY_MISMATCH, Category.INVALID_VALUE),
        # Rule restrictions (spec: illegal moves, closed periods, duplicates, overlaps, locked documents).
        (ErrorCode.RULE_VIOLATION, Category.RULE_RESTRICTION),
        (ErrorCode.CLOSED_PERIOD, Category.RULE_RESTRICTION),
        (ErrorCode.DUPLICATE, Category.RULE_RESTRICTION),
        (ErrorCode.OVERLAP, Category.RULE_RESTRICTION),
        (ErrorCode.NOT_EDITABLE, Category.RULE_RESTRICTION),
    ],
)
def test_categories_follow_the_spec(code: ErrorCode, category: Category) -> None:
    status, body = render_error(_invalid(code))
    assert [r["code"] for r in body["reasons"]] == [50000000 + category]
    assert status == {20: 400, 21: 400, 22: 400, 30: 400, 40: 404, 90: 400}[category]


def test_the_first_problem_sets_the_status() -> None:
    exc = InvalidInput(
        [FieldError(("a",), ErrorCode.RESOURCE_MISSING, "gone"), FieldError(("b",), ErrorCode.DUPLICATE, "taken")]
    )
    status, body = render_error(exc)
    assert status == 404 and [r["code"] for r in body["reasons"]] == [50000040, 50000030]
