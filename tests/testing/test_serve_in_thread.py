"""serve_in_thread(): the entry for runners other than pytest; a server for the block, gone after it."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bulkbill.testing import ServerDidNotStart, serve_in_thread


def get(url: str, key: str | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url)
    if key is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{key}:".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def test_serves_for_the_block_then_stops_and_leaves_nothing_behind() -> None:
    with serve_in_thread() as server:
        assert get(server.url + "/healthz") == (200, {"status": "ok"})
        tenant = server.new_tenant("runner")
        status, body = get(server.stripe_base + "/v1/customers", tenant.stripe_secret_key)
        assert (status, body["object"], body["data"]) == (200, "list", [])
        status, body = get(server.stripe_base + "/v1/customers", "sk_test_someone_else")
        assert status == 401 and body["error"]["type"] == "invalid_request_error"
        database = Path(server.database_url.removeprefix("sqlite:///"))
        assert database.is_file()
    with pytest.raises(urllib.error.URLError):
        get(server.url + "/healthz")
    assert not database.parent.exists()


def test_uses_the_database_it_is_given(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mine.db'}"
    with serve_in_thread(url) as server:
        tenant = server.new_tenant("kept")
    assert server.database_url == url
    with serve_in_thread(url) as again:  # the same database: the tenant is still there
        status, _ = get(again.stripe_base + "/v1/customers", tenant.stripe_secret_key)
    assert status == 200


def test_a_database_it_cannot_open_fails_at_once(tmp_path: Path) -> None:
    unreachable = f"sqlite:///{tmp_path / 'missing' / 'folder' / 'x.db'}"
    with pytest.raises(ServerDidNotStart, match="stopped before listening"), serve_in_thread(unreachable):
        pass
