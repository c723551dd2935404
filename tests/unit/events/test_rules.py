"""The event rules of the core: previous_attributes, the signature, the retry schedule, endpoint selection."""

from __future__ import annotations

import time

import stripe

from bulkbill.core.events.changes import previous_attributes
from bulkbill.core.events.retries import RetryPolicy
from bulkbill.core.events.signature import new_signing_secret, signature_header
from bulkbill.core.events.types import EventObject, EventType, wants


def test_previous_attributes_hold_only_what_changed() -> None:
    before = {"id": "x", "name": "a", "total": 1, "metadata": {"k": "1", "gone": "2"}, "lines": [1]}
    after = {"id": "x", "name": "b", "total": 1, "metadata": {"k": "1", "new": "3"}, "lines": [1, 2]}
    assert previous_attributes(before, after) == {"name": "a", "metadata": {"gone": "2", "new": ""}, "lines": [1]}
    assert previous_attributes(before, before) == {}
    # A field rendered more cheaply before the change (an invoice's embedded lines) is never told.
    told = previous_attributes(before, after, frozenset({"lines"}))
    assert told == {"name": "a", "metadata": {"gone": "2", "new": ""}}
    assert previous_attributes({"a": 1}, {"a": 1, "lines": [2]}, frozenset({"lines"})) == {}


def test_the_signature_is_what_the_official_sdk_verifies() -> None:
    secret, payload = new_signing_secret(), '{"id": "evt_1", "object": "event"}'
    header = signature_header(payload, secret, int(time.time()))
    assert stripe.WebhookSignature.verify_header(payload, header, secret)


def test_retries_back_off_exponentially_until_given_up() -> None:
    policy = RetryPolicy(first_delay=60, max_delay=600, give_up_after=3600, disable_after_failures=3)
    delays = [policy.after_failure(attempts=n, first_attempt_at=0, now=0) for n in (1, 2, 3, 4, 5)]
    assert delays == [60, 120, 240, 480, 600]
    assert policy.after_failure(attempts=9, first_attempt_at=0, now=3500) is None
    assert not policy.disables(2) and policy.disables(3)
    assert not RetryPolicy(1, 1, 1, 0).disables(1000)


def test_event_types_know_their_object_and_endpoints_select_them() -> None:
    assert EventType.SUBSCRIPTION_UPDATED.object == EventObject.SUBSCRIPTION
    assert EventType.TEST_CLOCK_READY.object == EventObject.TEST_CLOCK
    assert wants(["*"], "invoice.paid") and wants(["invoice.paid"], "invoice.paid")
    assert not wants(["invoice.created"], "invoice.paid")
