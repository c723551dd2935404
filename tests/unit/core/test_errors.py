"""The error tree: stable distinct codes, collected field errors in request order, readable paths."""

from __future__ import annotations

import re

import pytest

from bulkbill.core import errors as errors_module
from bulkbill.core.errors import (
    BillingError,
    ConcurrentModification,
    Conflict,
    FieldError,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InputCollector,
    InvalidInput,
    InvalidStateError,
    InvalidTransition,
    InvoiceNotEditable,
    NotFound,
    NoUpcomingInvoice,
    Path,
    RuleViolation,
    Unauthenticated,
    Unavailable,
    dotted,
)

SNAKE_CASE = re.compile(r"^[a-z]+(_[a-z]+)*$")
# Codes are part of the API: once shipped they never change.
SHIPPED: dict[type[BillingError], str] = {
    InvalidInput: "invalid_input",
    NotFound: "resource_missing",
    NoUpcomingInvoice: "invoice_upcoming_none",
    InvalidStateError: "invalid_state",
    InvoiceNotEditable: "invoice_not_editable",
    InvalidTransition: "invalid_transition",
    RuleViolation: "rule_violation",
    Conflict: "conflict",
    IdempotencyKeyReused: "idempotency_key_reused",
    IdempotencyKeyInUse: "idempotency_key_in_use",
    ConcurrentModification: "concurrent_modification",
    Unauthenticated: "unauthenticated",
    Unavailable: "unavailable",
}


def all_subclasses(cls: type[BillingError]) -> list[type[BillingError]]:
    found: list[type[BillingError]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(all_subclasses(sub))
    return found


class TestCodes:
    def test_every_error_has_a_distinct_snake_case_code(self) -> None:
        classes: list[type[BillingError]] = [BillingError, *all_subclasses(BillingError)]
        codes = [cls.code for cls in classes]
        assert all(SNAKE_CASE.match(code) for code in codes), codes
        assert len(set(codes)) == len(codes), codes

    def test_the_walk_finds_the_whole_core_tree(self) -> None:
        core = {
            obj
            for obj in vars(errors_module).values()
            if isinstance(obj, type) and issubclass(obj, BillingError) and obj is not BillingError
        }
        assert core == set(SHIPPED)
        assert core <= set(all_subclasses(BillingError))

    @pytest.mark.parametrize(("cls", "code"), list(SHIPPED.items()))
    def test_shipped_codes_never_change(self, cls: type[BillingError], code: str) -> None:
        assert cls.code == code


class TestErrors:
    def test_billing_error_keeps_its_message(self) -> None:
        error = Conflict("busy")
        assert (error.message, str(error)) == ("busy", "busy")

    def test_invalid_input_needs_an_error(self) -> None:
        with pytest.raises(ValueError):
            InvalidInput([])

    def test_invalid_input_reads_as_its_first_error(self) -> None:
        first = FieldError(("lines", 3, "id"), "resource_missing", "No such invoice line item: 'il_x'")
        error = InvalidInput([first, FieldError(("lines", 17), "x", "y")])
        assert error.first is first
        assert error.message == first.message
        assert len(error.errors) == 2

    def test_not_found(self) -> None:
        error = NotFound("invoice", "in_nope")
        assert (error.message, error.resource, error.object_id, error.path) == (
            "No such invoice: 'in_nope'",
            "invoice",
            "in_nope",
            None,
        )
        assert NotFound("price", "p", path=("lines", 0, "price")).path == ("lines", 0, "price")

    def test_state_and_rule_errors_carry_an_optional_path(self) -> None:
        assert InvalidStateError("no").path is None
        assert InvoiceNotEditable("no", path=("lines",)).path == ("lines",)
        assert RuleViolation("no").path is None
        assert RuleViolation("no", path=("currency",)).path == ("currency",)


class TestInputCollector:
    def test_nothing_collected_raises_nothing(self) -> None:
        InputCollector().raise_if_any()

    def test_errors_are_raised_in_request_order(self) -> None:
        collector = InputCollector()
        collector.add(("lines", 17, "quantity"), "invalid_quantity", "q")
        collector.add(("lines", 3, "price"), "resource_missing", "p")
        collector.add(("lines",), "too_many_lines", "n")
        collector.add(("lines", 3, "amount"), "parameter_missing", "a")
        collector.add(("invoice_metadata", "k"), "invalid_metadata_key", "m")
        with pytest.raises(InvalidInput) as exc:
            collector.raise_if_any()
        assert [e.path for e in exc.value.errors] == [
            ("invoice_metadata", "k"),
            ("lines",),
            ("lines", 3, "amount"),
            ("lines", 3, "price"),
            ("lines", 17, "quantity"),
        ]

    def test_indexes_compare_as_numbers_and_before_names(self) -> None:
        collector = InputCollector()
        paths: list[Path] = [("lines", 10), ("lines", "x"), ("lines", 9), ("lines", 100)]
        for path in paths:
            collector.add(path, "c", "m")
        with pytest.raises(InvalidInput) as exc:
            collector.raise_if_any()
        assert [e.path for e in exc.value.errors] == [("lines", 9), ("lines", 10), ("lines", 100), ("lines", "x")]

    def test_errors_at_the_same_path_keep_their_order(self) -> None:
        collector = InputCollector()
        collector.add(("lines", 1), "second_found_first", "1")
        collector.add(("lines", 0), "other", "0")
        collector.add(("lines", 1), "found_later", "2")
        with pytest.raises(InvalidInput) as exc:
            collector.raise_if_any()
        assert [e.code for e in exc.value.errors] == ["other", "second_found_first", "found_later"]

    def test_missing_and_not_found_messages(self) -> None:
        collector = InputCollector()
        collector.missing(("lines", 2, "id"))
        collector.not_found(("lines", 2, "invoice_item"), "invoiceitem", "il_1")
        assert collector.errors == [
            FieldError(("lines", 2, "id"), "parameter_missing", "Missing required param: lines[2][id]."),
            FieldError(("lines", 2, "invoice_item"), "resource_missing", "No such invoiceitem: 'il_1'"),
        ]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("lines",), "lines"),
        (("lines", 2, "quantity"), "lines[2][quantity]"),
        (("lines", 0, "pricing", "price"), "lines[0][pricing][price]"),
        (("metadata", "key"), "metadata[key]"),
    ],
)
def test_dotted(path: Path, text: str) -> None:
    assert dotted(path) == text
