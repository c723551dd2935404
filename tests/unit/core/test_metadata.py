"""Metadata: Stripe's limits, merge on update ("" deletes, CLEAR empties), replace for subscription lines."""

from __future__ import annotations

import pytest

from bulkbill.core.errors import InputCollector, Path
from bulkbill.core.metadata import (
    CLEAR,
    MAX_KEY_LENGTH,
    MAX_KEYS,
    MAX_VALUE_LENGTH,
    Clear,
    MetadataUpdate,
    check_metadata,
    merge_metadata,
    replace_metadata,
)

PATH: Path = ("metadata",)


def problems(update: MetadataUpdate | None) -> list[tuple[Path, str]]:
    errors = InputCollector()
    check_metadata(update, PATH, errors)
    return [(e.path, e.code) for e in errors.errors]


def test_limits_are_stripes() -> None:
    assert (MAX_KEYS, MAX_KEY_LENGTH, MAX_VALUE_LENGTH) == (50, 40, 500)


class TestClear:
    def test_is_a_singleton(self) -> None:
        assert Clear() is CLEAR
        assert Clear() is Clear()

    def test_repr(self) -> None:
        assert repr(CLEAR) == "CLEAR"


class TestCheck:
    def test_nothing_to_check(self) -> None:
        assert problems(None) == []
        assert problems(CLEAR) == []
        assert problems({}) == []

    def test_keys_up_to_forty_characters(self) -> None:
        assert problems({"k" * 40: "v"}) == []
        assert problems({"k" * 41: "v"}) == [(("metadata", "k" * 41), "invalid_metadata_key")]

    @pytest.mark.parametrize("key", ["", "a[b", "a]b", "lines[0]"])
    def test_keys_without_brackets_and_not_empty(self, key: str) -> None:
        assert problems({key: "v"}) == [(("metadata", key), "invalid_metadata_key")]

    def test_values_up_to_five_hundred_characters(self) -> None:
        assert problems({"k": "v" * 500}) == []
        assert problems({"k": "v" * 501}) == [(("metadata", "k"), "invalid_metadata_value")]

    def test_empty_values_are_fine(self) -> None:
        assert problems({"k": ""}) == []

    def test_every_problem_is_reported(self) -> None:
        assert problems({"[": "v" * 501, "ok": "v", "]": "x"}) == [
            (("metadata", "["), "invalid_metadata_key"),
            (("metadata", "["), "invalid_metadata_value"),
            (("metadata", "]"), "invalid_metadata_key"),
        ]


class TestMerge:
    CURRENT = {"a": "1", "b": "2"}

    def merge(
        self, update: MetadataUpdate | None, current: dict[str, str] | None = None
    ) -> tuple[dict[str, str], list[str]]:
        errors = InputCollector()
        merged = merge_metadata(self.CURRENT if current is None else current, update, PATH, errors)
        return merged, [e.code for e in errors.errors]

    def test_not_given_keeps_everything(self) -> None:
        merged, _ = self.merge(None)
        assert merged == self.CURRENT
        assert merged is not self.CURRENT

    def test_keys_are_merged(self) -> None:
        assert self.merge({"b": "new", "c": "3"}) == ({"a": "1", "b": "new", "c": "3"}, [])

    def test_empty_value_deletes_a_key(self) -> None:
        assert self.merge({"a": "", "missing": ""}) == ({"b": "2"}, [])

    def test_clear_empties(self) -> None:
        assert self.merge(CLEAR) == ({}, [])

    def test_does_not_touch_the_current_mapping(self) -> None:
        current = {"a": "1"}
        self.merge({"a": "", "b": "2"}, current)
        assert current == {"a": "1"}

    def test_at_most_fifty_keys_after_the_merge(self) -> None:
        current = {f"k{i}": "v" for i in range(49)}
        assert self.merge({"x": "1"}, current)[1] == []
        assert self.merge({"x": "1", "y": "2"}, current)[1] == ["invalid_metadata"]
        # deleting makes room
        assert self.merge({"x": "1", "y": "2", "k0": ""}, current)[1] == []


class TestReplace:
    CURRENT = {"a": "1", "b": "2"}

    def replace(self, update: MetadataUpdate | None) -> tuple[dict[str, str], list[tuple[Path, str]]]:
        errors = InputCollector()
        replaced = replace_metadata(update, self.CURRENT, PATH, errors)
        return replaced, [(e.path, e.code) for e in errors.errors]

    def test_not_given_keeps_everything(self) -> None:
        assert self.replace(None) == (self.CURRENT, [])

    def test_the_update_replaces_the_map(self) -> None:
        assert self.replace({"c": "3"}) == ({"c": "3"}, [])

    def test_empty_values_are_dropped(self) -> None:
        assert self.replace({"a": "", "c": "3"}) == ({"c": "3"}, [])

    def test_clear_empties(self) -> None:
        assert self.replace(CLEAR) == ({}, [])

    def test_at_most_fifty_keys(self) -> None:
        assert self.replace({f"k{i}": "v" for i in range(50)})[1] == []
        assert self.replace({f"k{i}": "v" for i in range(51)})[1] == [(PATH, "invalid_metadata")]
