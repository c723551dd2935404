"""The Stripe form decoder splits and unquotes exactly as the standard library's parse_qsl does."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from bulkbill.api.stripe.edge.forms import MAX_PARAMETERS, decode_form
from bulkbill.core.errors import InvalidInput

# Flat names (no brackets left once decoded) so parse_qsl's pairs are the decoded dict itself.
FLAT = [
    "a=1&b=2",
    "a=x+y&b=%2B&c=%20",
    "a=%255B&b=%5Bnot+a+key%5D",  # an encoded "%" stays literal; brackets in a value stay text
    "a=%C3%A9&%C3%A9=%e2%82%ac",
    "a&b=&&d==e",
    "a=%zz&b=%2&c=%",
    "a=1&a=2",
]


@pytest.mark.parametrize("body", FLAT)
def test_flat_bodies_decode_as_parse_qsl_does(body: str) -> None:
    assert decode_form(body) == dict(parse_qsl(body, keep_blank_values=True, errors="strict"))


@pytest.mark.parametrize("encoded", ["lines%5B0%5D%5Bamount%5D=5", "lines%5b0%5d%5bamount%5d=5", "lines[0][amount]=5"])
def test_encoded_brackets_nest_whatever_their_case(encoded: str) -> None:
    assert decode_form(encoded) == {"lines": [{"amount": "5"}]}


@pytest.mark.parametrize("body", ["a=%C3", "a=%C3%5B", "%FF=1", "a=%00", "a%00=1", "a=\x00"])
def test_invalid_utf8_and_nul_are_refused(body: str) -> None:
    with pytest.raises(InvalidInput):
        decode_form(body)


def test_the_parameter_cap_counts_fields_as_parse_qsl_does() -> None:
    assert len(decode_form("&".join(f"a{i}=1" for i in range(MAX_PARAMETERS)))) == MAX_PARAMETERS
    with pytest.raises(InvalidInput, match="Max number of fields exceeded"):
        decode_form("&".join(f"a{i}=1" for i in range(MAX_PARAMETERS + 1)))


def test_a_key_seen_before_decodes_as_the_first_time() -> None:
    # Keys are remembered from one body to the next; what a body decodes to depends on that body only.
    first = "lines[0][id]=a&lines[1][id]=b&tags[]=x&tags[]=y"
    assert decode_form(first) == {"lines": [{"id": "a"}, {"id": "b"}], "tags": ["x", "y"]}
    assert decode_form(first) == decode_form(first)
    assert decode_form("lines[1][id]=c&tags[]=z") == {"lines": [{"id": "c"}], "tags": ["z"]}
    with pytest.raises(InvalidInput, match="both as a value and as a hash"):
        decode_form("lines=1&lines[0][id]=a")


@pytest.mark.parametrize("index", ["1" + "0" * 5000, "9" * 60, "10000"])
def test_an_index_of_any_length_over_the_cap_is_refused(index: str) -> None:
    with pytest.raises(InvalidInput, match="Array index too large"):
        decode_form(f"a[{index}]=1")


def test_leading_zeros_do_not_make_an_index_large() -> None:
    assert decode_form("a[" + "0" * 40 + "1]=x&a[0]=y") == {"a": ["y", "x"]}
