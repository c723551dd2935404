"""Billable items: how one line's pricing, quantity, discounts, tax rates and metadata are checked and set."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bulkbill.core.errors import FieldError, InputCollector, Path
from bulkbill.core.invoicing.commands import DiscountRef, ItemKind, NewProduct, PriceData
from bulkbill.core.invoicing.items import (
    CouponInfo,
    DiscountInfo,
    ItemOwner,
    ItemValues,
    PriceInfo,
    References,
    TaxRateInfo,
    apply_changes,
    blank_item,
    build_new_item,
    check_coupon,
    check_discounts,
    check_tax_rates,
)
from bulkbill.core.metadata import CLEAR
from bulkbill.core.money import MAX_AMOUNT
from tests.helpers.core import CUSTOMER, NOW, PRICE, changes, make_refs, make_values

OWNER = ItemOwner(CUSTOMER, "usd")
PATH: Path = ("lines", 0)


def new_item(refs: References | None = None, **fields: Any) -> tuple[ItemValues, list[FieldError]]:
    errors = InputCollector()
    values = build_new_item(OWNER, changes(**fields), refs or make_refs(), PATH, errors, now=NOW)
    return values, errors.errors


def updated(base: ItemValues, refs: References | None = None, **fields: Any) -> tuple[ItemValues, list[FieldError]]:
    errors = InputCollector()
    values = apply_changes(base, OWNER, changes(**fields), refs or make_refs(), PATH, errors)
    return values, errors.errors


def codes(errors: list[FieldError]) -> list[tuple[Path, str]]:
    return [(e.path, e.code) for e in errors]


def price_data(**fields: Any) -> PriceData:
    defaults: dict[str, Any] = {"currency": "usd", "product": "prod_1", "unit_amount_decimal": Decimal(250)}
    defaults.update(fields)
    if "given" not in fields:
        defaults["given"] = frozenset({"unit_amount"}) if defaults["unit_amount_decimal"] is not None else frozenset()
    return PriceData(**defaults)


class TestBlankItem:
    def test_nothing_priced_yet(self) -> None:
        values = blank_item(OWNER, now=NOW)
        assert values.kind == ItemKind.INVOICE_ITEM
        assert (values.currency, values.amount, values.quantity) == ("usd", 0, Decimal(1))
        assert values.period == (NOW, NOW)
        assert values.tax_rates is None
        assert values.metadata == {}


class TestPricingByAmount:
    def test_amount_defines_the_line(self) -> None:
        values, errors = new_item(amount=7500)
        assert errors == []
        assert (values.amount, values.unit_amount_decimal, values.quantity) == (7500, Decimal(7500), Decimal(1))
        assert values.amount_defined is True
        assert values.price_id is None
        assert values.discountable is True

    def test_negative_amount_is_a_credit_and_not_discountable_by_default(self) -> None:
        values, errors = new_item(amount=-500)
        assert errors == []
        assert values.amount == -500
        assert values.discountable is False

    def test_explicit_discountable_wins_over_the_default(self) -> None:
        values, _ = new_item(amount=-500, discountable=True)
        assert values.discountable is True
        values, _ = new_item(amount=500, discountable=False)
        assert values.discountable is False

    def test_a_new_line_needs_some_pricing(self) -> None:
        _, errors = new_item(description="nothing else")
        assert codes(errors) == [(("lines", 0, "amount"), "parameter_missing")]

    @pytest.mark.parametrize("field", ["quantity", "quantity_decimal"])
    def test_amount_with_quantity_is_exclusive(self, field: str) -> None:
        _, errors = new_item(amount=100, quantity=Decimal(2), quantity_field=field)
        assert codes(errors) == [(("lines", 0, field), "parameters_exclusive")]

    def test_amount_too_large(self) -> None:
        _, errors = new_item(amount=MAX_AMOUNT + 1)
        assert codes(errors) == [(("lines", 0, "amount"), "amount_too_large")]
        _, errors = new_item(amount=-MAX_AMOUNT)
        assert errors == []


class TestExactlyOnePricing:
    def test_amount_and_price(self) -> None:
        _, errors = new_item(amount=100, price="price_1")
        assert codes(errors) == [(("lines", 0, "pricing"), "parameters_exclusive")]
        assert "amount, pricing" in errors[0].message

    def test_amount_and_the_old_price_spelling(self) -> None:
        _, errors = new_item(amount=100, price="price_1", price_path=("price",))
        assert codes(errors) == [(("lines", 0, "price"), "parameters_exclusive")]

    def test_amount_and_price_data(self) -> None:
        _, errors = new_item(amount=100, price_data=price_data())
        assert codes(errors) == [(("lines", 0, "price_data"), "parameters_exclusive")]
        assert errors[0].message == "You may only specify one of these parameters: amount, price_data."

    def test_price_and_price_data(self) -> None:
        _, errors = new_item(price="price_1", price_data=price_data())
        assert codes(errors) == [(("lines", 0, "price_data"), "parameters_exclusive")]

    def test_all_three_report_the_second(self) -> None:
        _, errors = new_item(amount=1, price="price_1", price_data=price_data())
        assert codes(errors) == [(("lines", 0, "pricing"), "parameters_exclusive")]

    def test_an_update_may_switch_pricing_with_one_definer(self) -> None:
        values, errors = updated(make_values(), amount=999)
        assert errors == []
        assert (values.amount, values.price_id, values.amount_defined) == (999, None, True)


class TestPricingByPrice:
    def test_amount_is_unit_times_quantity(self) -> None:
        values, errors = new_item(price="price_1", quantity=Decimal(3))
        assert errors == []
        assert (values.amount, values.unit_amount_decimal, values.quantity) == (4500, Decimal(1500), Decimal(3))
        assert (values.price_id, values.product_id, values.amount_defined) == ("price_1", "prod_1", False)

    def test_quantity_defaults_to_one(self) -> None:
        values, _ = new_item(price="price_1")
        assert (values.amount, values.quantity) == (1500, Decimal(1))

    def test_decimal_price_rounds_once_per_line(self) -> None:
        refs = make_refs(prices=[PriceInfo("price_d", "usd", Decimal("0.125"), "prod_1")])
        values, errors = new_item(refs, price="price_d", quantity=Decimal(12), quantity_field="quantity_decimal")
        assert errors == []
        assert values.amount == 2  # 1.5 → 2

    @pytest.mark.parametrize(
        ("price_path", "error_path"),
        [(("pricing", "price"), ("lines", 0, "pricing", "price")), (("price",), ("lines", 0, "price"))],
    )
    def test_missing_price(self, price_path: tuple[str, ...], error_path: Path) -> None:
        _, errors = new_item(price="price_nope", price_path=price_path)
        assert codes(errors) == [(error_path, "resource_missing")]
        assert errors[0].message == "No such price: 'price_nope'"

    @pytest.mark.parametrize(
        ("price", "code"),
        [
            (PriceInfo("price_x", "eur", Decimal(100), "prod_1"), "currency_mismatch"),
            (PriceInfo("price_x", "usd", Decimal(100), "prod_1", recurring=True), "price_not_one_time"),
            (PriceInfo("price_x", "usd", Decimal(100), "prod_1", active=False), "price_inactive"),
            (PriceInfo("price_x", "usd", None, "prod_1"), "price_unsupported"),
        ],
    )
    def test_unusable_prices(self, price: PriceInfo, code: str) -> None:
        _, errors = new_item(make_refs(prices=[price]), price="price_x")
        assert codes(errors) == [(("lines", 0, "pricing", "price"), code)]

    def test_every_problem_of_a_price_is_reported(self) -> None:
        price = PriceInfo("price_x", "eur", Decimal(100), "prod_1", recurring=True, active=False)
        _, errors = new_item(make_refs(prices=[price]), price="price_x")
        assert [e.code for e in errors] == ["currency_mismatch", "price_not_one_time", "price_inactive"]

    def test_line_amount_too_large(self) -> None:
        values, errors = new_item(price="price_1", quantity=Decimal(10**12 - 1))
        assert codes(errors) == [(("lines", 0, "quantity"), "amount_too_large")]
        assert values.amount == 0


class TestPricingByPriceData:
    def test_inline_price(self) -> None:
        values, errors = new_item(price_data=price_data(), quantity=Decimal(4))
        assert errors == []
        assert (values.amount, values.unit_amount_decimal, values.product_id) == (1000, Decimal(250), "prod_1")
        assert values.amount_defined is False

    def test_inline_product(self) -> None:
        values, errors = new_item(price_data=price_data(product=None, new_product=NewProduct("Gadget")))
        assert errors == []
        assert (values.product_id, values.new_product) == (None, NewProduct("Gadget"))

    def test_currency_is_case_insensitive(self) -> None:
        _, errors = new_item(price_data=price_data(currency="USD"))
        assert errors == []

    def test_currency_is_required(self) -> None:
        _, errors = new_item(price_data=price_data(currency=None))
        assert codes(errors) == [(("lines", 0, "price_data", "currency"), "parameter_missing")]
        assert errors[0].message == "Missing required param: lines[0][price_data][currency]."

    def test_currency_must_match_the_invoice(self) -> None:
        _, errors = new_item(price_data=price_data(currency="EUR"))
        assert codes(errors) == [(("lines", 0, "price_data", "currency"), "currency_mismatch")]

    @pytest.mark.parametrize(("product", "name"), [("prod_1", "Gadget"), (None, None)])
    def test_exactly_one_of_product_and_product_data(self, product: str | None, name: str | None) -> None:
        _, errors = new_item(price_data=price_data(product=product, new_product=NewProduct(name) if name else None))
        assert codes(errors) == [(("lines", 0, "price_data", "product"), "parameters_exclusive")]

    def test_an_invoice_items_own_unit_amount_needs_no_product(self) -> None:
        _, errors = new_item(price_data=price_data(product=None, product_required=False))
        assert errors == []
        # nor a currency: the item is in the invoice's currency
        values, errors = new_item(price_data=price_data(product=None, currency=None, product_required=False))
        assert errors == []
        assert values.currency == "usd"

    def test_unknown_product(self) -> None:
        _, errors = new_item(price_data=price_data(product="prod_nope"))
        assert codes(errors) == [(("lines", 0, "price_data", "product"), "resource_missing")]

    def test_unit_amount_xor_unit_amount_decimal(self) -> None:
        _, errors = new_item(price_data=price_data(given=frozenset({"unit_amount", "unit_amount_decimal"})))
        assert codes(errors) == [(("lines", 0, "price_data", "unit_amount_decimal"), "parameters_exclusive")]

    def test_unit_amount_is_required(self) -> None:
        values, errors = new_item(price_data=price_data(unit_amount_decimal=None))
        assert codes(errors) == [(("lines", 0, "price_data", "unit_amount"), "parameter_missing")]
        assert values.amount == 0

    def test_unit_amount_decimal_allows_twelve_places(self) -> None:
        values, errors = new_item(price_data=price_data(unit_amount_decimal=Decimal("0.123456789012")))
        assert errors == []
        assert values.unit_amount_decimal == Decimal("0.123456789012")

    def test_unit_amount_decimal_refuses_thirteen_places(self) -> None:
        _, errors = new_item(price_data=price_data(unit_amount_decimal=Decimal("0.1234567890123")))
        assert codes(errors) == [(("lines", 0, "price_data", "unit_amount_decimal"), "invalid_unit_amount")]

    def test_unit_amount_too_large(self) -> None:
        _, errors = new_item(price_data=price_data(unit_amount_decimal=Decimal(MAX_AMOUNT + 1)))
        # the unit amount is reported first (the line amount it yields is too large as well)
        assert codes(errors)[0] == (("lines", 0, "price_data", "unit_amount"), "amount_too_large")
        assert {e.code for e in errors} == {"amount_too_large"}


class TestOtherFields:
    @pytest.mark.parametrize("currency", ["usd", "USD", "Usd"])
    def test_currency_equal_to_the_invoice_is_accepted(self, currency: str) -> None:
        _, errors = new_item(amount=7500, currency=currency)
        assert errors == []

    def test_other_currency_is_refused(self) -> None:
        _, errors = new_item(amount=7500, currency="EUR")
        assert codes(errors) == [(("lines", 0, "currency"), "currency_mismatch")]
        assert errors[0].message == "The currency eur does not match the invoice currency usd."

    @pytest.mark.parametrize(
        ("quantity", "ok"),
        [
            (Decimal(0), True),
            (Decimal("1.000000000001"), True),
            (Decimal(10**12 - 1), True),
            (Decimal(-1), False),
            (Decimal("1.0000000000001"), False),
            (Decimal(10**12), False),
        ],
    )
    def test_quantity_bounds(self, quantity: Decimal, ok: bool) -> None:
        refs = make_refs(prices=[PriceInfo("price_c", "usd", Decimal(1), "prod_1")])
        _, errors = new_item(refs, price="price_c", quantity=quantity, quantity_field="quantity_decimal")
        assert codes(errors) == ([] if ok else [(("lines", 0, "quantity_decimal"), "invalid_quantity")])

    def test_description_and_discountable(self) -> None:
        values, errors = updated(make_values(), description="New", discountable=False)
        assert errors == []
        assert (values.description, values.discountable) == ("New", False)

    def test_period(self) -> None:
        values, errors = updated(make_values(), period=(NOW, NOW + 10))
        assert errors == []
        assert values.period == (NOW, NOW + 10)
        _, errors = updated(make_values(), period=(NOW, NOW))
        assert errors == []

    def test_period_end_before_start(self) -> None:
        _, errors = updated(make_values(), period=(NOW, NOW - 1))
        assert codes(errors) == [(("lines", 0, "period", "end"), "invalid_period")]


class TestUpdatingAmounts:
    def test_quantity_on_a_priced_line_recomputes_the_amount(self) -> None:
        values, errors = updated(make_values(), quantity=Decimal(5))
        assert errors == []
        assert (values.amount, values.quantity) == (7500, Decimal(5))

    def test_quantity_on_an_amount_line_multiplies_the_amount(self) -> None:
        base = make_values(unit_amount_decimal=Decimal(400), quantity=Decimal(1), amount=400, amount_defined=True)
        values, errors = updated(base, quantity=Decimal(3))
        assert errors == []
        assert (values.amount, values.amount_defined) == (1200, False)

    def test_other_fields_keep_the_amount(self) -> None:
        base = make_values(unit_amount_decimal=Decimal(400), quantity=Decimal(1), amount=400, amount_defined=True)
        values, _ = updated(base, description="x")
        assert (values.amount, values.amount_defined) == (400, True)
        values, _ = updated(make_values(), description="x")
        assert values.amount == 3000

    def test_new_price_keeps_the_quantity(self) -> None:
        refs = make_refs(prices=[PRICE, PriceInfo("price_2", "usd", Decimal(99), "prod_1")])
        values, errors = updated(make_values(), refs, price="price_2")
        assert errors == []
        assert (values.amount, values.price_id) == (198, "price_2")

    def test_exclusive_pricing_leaves_the_item_unchanged(self) -> None:
        base = make_values()
        values, errors = updated(base, amount=5, price_data=price_data())
        assert [e.code for e in errors] == ["parameters_exclusive"]
        assert values.amount == base.amount


class TestDiscountsAndTaxRates:
    REFS = make_refs(
        coupons=[
            CouponInfo("SAVE10", Decimal(10), None, None),
            CouponInfo("FIVE_USD", None, 500, "usd"),
            CouponInfo("FIVE_EUR", None, 500, "eur"),
            CouponInfo("OLD", Decimal(10), None, None, valid=False),
        ],
        discounts=[DiscountInfo("di_mine", "SAVE10", CUSTOMER), DiscountInfo("di_any", "SAVE10", None)],
        tax_rates=[TaxRateInfo("txr_1"), TaxRateInfo("txr_2"), TaxRateInfo("txr_old", active=False)],
    )

    def test_valid_discounts_are_set(self) -> None:
        refs = (DiscountRef(coupon="SAVE10"), DiscountRef(coupon="FIVE_USD"), DiscountRef(discount="di_mine"))
        values, errors = updated(make_values(), self.REFS, discounts=refs)
        assert errors == []
        assert values.discounts == refs

    def test_clear_removes_every_discount(self) -> None:
        values, errors = updated(make_values(discounts=(DiscountRef(coupon="SAVE10"),)), self.REFS, discounts=CLEAR)
        assert errors == []
        assert values.discounts == ()

    @pytest.mark.parametrize(
        ("ref", "error_path", "code"),
        [
            (DiscountRef(), ("discounts", 0), "parameters_exclusive"),
            (DiscountRef(coupon="SAVE10", discount="di_mine"), ("discounts", 0), "parameters_exclusive"),
            (DiscountRef(promotion_code="promo_1"), ("discounts", 0, "promotion_code"), "resource_missing"),
            (DiscountRef(coupon="NOPE"), ("discounts", 0, "coupon"), "resource_missing"),
            (DiscountRef(coupon="OLD"), ("discounts", 0, "coupon"), "coupon_expired"),
            (DiscountRef(coupon="FIVE_EUR"), ("discounts", 0, "coupon"), "currency_mismatch"),
            (DiscountRef(discount="di_nope"), ("discounts", 0, "discount"), "resource_missing"),
        ],
    )
    def test_bad_discounts(self, ref: DiscountRef, error_path: Path, code: str) -> None:
        _, errors = updated(make_values(), self.REFS, discounts=(ref,))
        assert codes(errors) == [(("lines", 0, *error_path), code)]

    def test_another_customers_discount_is_not_found(self) -> None:
        refs = make_refs(discounts=[DiscountInfo("di_theirs", "SAVE10", "cus_B")])
        _, errors = updated(make_values(), refs, discounts=(DiscountRef(discount="di_theirs"),))
        assert codes(errors) == [(("lines", 0, "discounts", 0, "discount"), "resource_missing")]

    def test_a_customerless_discount_can_be_reused(self) -> None:
        _, errors = updated(make_values(), self.REFS, discounts=(DiscountRef(discount="di_any"),))
        assert errors == []

    def test_applications_count_against_the_redemptions_left(self) -> None:
        refs = make_refs(coupons=[CouponInfo("TWO_LEFT", Decimal(10), None, None, redemptions_left=2)])
        errors = InputCollector()
        for line in range(4):  # one command, four lines applying the coupon
            check_discounts((DiscountRef(coupon="TWO_LEFT"),), OWNER, refs, ("lines", line, "discounts"), errors)
        assert codes(errors.errors) == [
            (("lines", 2, "discounts", 0, "coupon"), "coupon_expired"),
            (("lines", 3, "discounts", 0, "coupon"), "coupon_expired"),
        ]
        unlimited = make_refs(coupons=[CouponInfo("ANY", Decimal(10), None, None)])
        for line in range(4):
            check_discounts((DiscountRef(coupon="ANY"),), OWNER, unlimited, ("lines", line, "discounts"), errors)
        assert len(errors.errors) == 2

    def test_a_coupon_applies_once(self) -> None:
        _, errors = updated(
            make_values(), self.REFS, discounts=(DiscountRef(coupon="SAVE10"), DiscountRef(coupon="SAVE10"))
        )
        assert codes(errors) == [(("lines", 0, "discounts"), "duplicate_discount")]

    def test_tax_rates_are_set(self) -> None:
        values, errors = updated(make_values(), self.REFS, tax_rates=("txr_1", "txr_2"))
        assert errors == []
        assert values.tax_rates == ("txr_1", "txr_2")

    def test_clearing_tax_rates_falls_back_to_the_invoice_defaults(self) -> None:
        values, errors = updated(make_values(tax_rates=("txr_1",)), self.REFS, tax_rates=CLEAR)
        assert errors == []
        assert values.tax_rates is None

    def test_an_empty_list_of_tax_rates_is_kept(self) -> None:
        values, errors = updated(make_values(), self.REFS, tax_rates=())
        assert errors == []
        assert values.tax_rates == ()

    @pytest.mark.parametrize(
        ("rates", "expected"),
        [
            (("txr_nope",), [(("tax_rates", 0), "resource_missing")]),
            (("txr_1", "txr_old"), [(("tax_rates", 1), "tax_rate_inactive")]),
            (("txr_1", "txr_1"), [(("tax_rates",), "duplicate_tax_rate")]),
        ],
    )
    def test_bad_tax_rates(self, rates: tuple[str, ...], expected: list[tuple[Path, str]]) -> None:
        _, errors = updated(make_values(), self.REFS, tax_rates=rates)
        assert codes(errors) == [(("lines", 0, *p), c) for p, c in expected]

    def test_the_checks_can_be_called_on_their_own(self) -> None:
        errors = InputCollector()
        check_coupon("FIVE_USD", "usd", self.REFS, ("coupon",), errors)
        check_discounts((), OWNER, self.REFS, ("discounts",), errors)
        check_tax_rates((), self.REFS, ("tax_rates",), errors)
        assert errors.errors == []
        check_coupon("FIVE_USD", "eur", self.REFS, ("coupon",), errors)
        assert codes(errors.errors) == [(("coupon",), "currency_mismatch")]


class TestMetadata:
    def test_new_item_metadata(self) -> None:
        values, errors = new_item(amount=1, metadata={"a": "1"})
        assert errors == []
        assert values.metadata == {"a": "1"}

    def test_invoice_item_lines_merge(self) -> None:
        base = make_values(metadata={"keep": "1", "drop": "2", "change": "3"})
        values, errors = updated(base, metadata={"drop": "", "change": "new", "add": "4"})
        assert errors == []
        assert values.metadata == {"keep": "1", "change": "new", "add": "4"}

    def test_clear_empties(self) -> None:
        values, _ = updated(make_values(metadata={"a": "1"}), metadata=CLEAR)
        assert values.metadata == {}

    def test_not_given_keeps(self) -> None:
        values, _ = updated(make_values(metadata={"a": "1"}), description="x")
        assert values.metadata == {"a": "1"}

    def test_limits_are_checked(self) -> None:
        _, errors = updated(make_values(), metadata={"k" * 41: "v", "ok": "v" * 501})
        assert codes(errors) == [
            (("lines", 0, "metadata", "k" * 41), "invalid_metadata_key"),
            (("lines", 0, "metadata", "ok"), "invalid_metadata_value"),
        ]


class TestSubscriptionLines:
    BASE = make_values(kind=ItemKind.SUBSCRIPTION, metadata={"plan": "pro", "seat": "3"})
    REFS = make_refs(coupons=[CouponInfo("SAVE10", Decimal(10), None, None)], tax_rates=[TaxRateInfo("txr_1")])

    def test_tax_rates_discounts_and_metadata_may_change(self) -> None:
        values, errors = updated(
            self.BASE, self.REFS, tax_rates=("txr_1",), discounts=(DiscountRef(coupon="SAVE10"),), metadata={"new": "1"}
        )
        assert errors == []
        assert values.tax_rates == ("txr_1",)
        assert values.discounts == (DiscountRef(coupon="SAVE10"),)
        assert values.amount == self.BASE.amount

    def test_metadata_is_replaced_not_merged(self) -> None:
        values, _ = updated(self.BASE, metadata={"plan": "team", "seat": ""})
        assert values.metadata == {"plan": "team"}
        values, _ = updated(self.BASE, metadata=CLEAR)
        assert values.metadata == {}
        values, _ = updated(self.BASE, tax_rates=())
        assert values.metadata == {"plan": "pro", "seat": "3"}

    @pytest.mark.parametrize(
        ("fields", "error_names"),
        [
            ({"quantity": Decimal(2)}, ["quantity"]),
            ({"quantity": Decimal(2), "quantity_field": "quantity_decimal"}, ["quantity_decimal"]),
            ({"amount": 5}, ["amount"]),
            ({"description": "x"}, ["description"]),
            ({"period": (NOW, NOW)}, ["period"]),
            ({"price": "price_1"}, ["pricing"]),
            ({"price": "price_1", "price_path": ("price",)}, ["price"]),
            ({"discountable": False, "currency": "usd", "tax_rates": ()}, ["currency", "discountable"]),
        ],
    )
    def test_any_other_field_is_not_editable(self, fields: dict[str, Any], error_names: list[str]) -> None:
        values, errors = updated(self.BASE, self.REFS, **fields)
        assert codes(errors) == [(("lines", 0, name), "field_not_editable") for name in error_names]
        assert errors[0].message == "Only tax_rates, discounts and metadata can be updated on subscription line items."
        assert (values.amount, values.description, values.quantity) == (3000, "Widgets", Decimal(2))

    def test_discounts_and_rates_are_still_checked(self) -> None:
        _, errors = updated(self.BASE, self.REFS, tax_rates=("txr_nope",), metadata={"[bad]": "v"})
        assert codes(errors) == [
            (("lines", 0, "tax_rates", 0), "resource_missing"),
            (("lines", 0, "metadata", "[bad]"), "invalid_metadata_key"),
        ]
