"""A serving process works on a bounded number of requests at once: 2 on SQLite (one writer at a time,
and more threads only compete with it for the interpreter lock), 40 on PostgreSQL, or the setting."""

from __future__ import annotations

import threading

import anyio.to_thread
from fastapi.testclient import TestClient

from bulkbill.api.app import POSTGRES_REQUEST_THREADS, SQLITE_REQUEST_THREADS, create_app
from bulkbill.config import Settings


def _threads(client: TestClient) -> float:
    """The size of the thread pool that the application's synchronous endpoints run in."""
    assert client.portal is not None
    return client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)


def test_a_server_works_on_as_many_requests_at_once_as_its_database_gains_from(settings: Settings) -> None:
    expected = SQLITE_REQUEST_THREADS if settings.database_url.startswith("sqlite") else POSTGRES_REQUEST_THREADS
    with TestClient(create_app(settings)) as client:
        assert _threads(client) == expected
        assert client.get("/healthz").status_code == 200


def test_the_setting_chooses_the_number(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"request_threads": 5}))) as client:
        assert _threads(client) == 5


def test_health_answers_while_every_request_thread_is_busy(settings: Settings) -> None:
    release = threading.Event()
    with TestClient(create_app(settings.model_copy(update={"request_threads": 1}))) as client:
        assert client.portal is not None
        busy = client.portal.start_task_soon(anyio.to_thread.run_sync, release.wait)
        try:
            limiter = client.portal.call(anyio.to_thread.current_default_thread_limiter)
            while client.portal.call(lambda: limiter.borrowed_tokens) < 1:
                release.wait(0.001)
            answers: list[int] = []
            asker = threading.Thread(target=lambda: answers.append(client.get("/healthz").status_code), daemon=True)
            asker.start()
            asker.join(10)  # a bound on a hung request only
            assert answers == [200]
        finally:
            release.set()
            busy.result(10)
