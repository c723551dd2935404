"""The interactive docs pages (/stripe/docs, /zuora/docs) work without internet access and without keys.

Each page loads its dialect's openapi.json, and every file it references is served by the
application itself: no CDN, so a machine with no network shows the docs.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

DIALECTS = ("stripe", "zuora")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_docs_page_loads_its_document_and_files_from_the_app(client: TestClient, dialect: str) -> None:
    page = client.get(f"/{dialect}/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert f"url: '/{dialect}/openapi.json'" in html
    assert not re.search(r"https?://", html), "the page must not load anything from another host"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {a.rsplit(".", 1)[-1] for a in assets} >= {"js", "css"}, assets
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.content) > 0, url
    kinds = {url.rsplit(".", 1)[-1]: client.get(url).headers["content-type"] for url in assets}
    assert kinds["js"].startswith("text/javascript") and kinds["css"].startswith("text/css")
    assert "SwaggerUIBundle" in client.get(next(a for a in assets if a.endswith(".js"))).text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_document_and_the_docs_need_no_credentials(client: TestClient, dialect: str) -> None:
    document = client.get(f"/{dialect}/openapi.json")
    assert document.status_code == 200
    body = document.json()
    assert body["openapi"].startswith("3.") and body["paths"]
    assert body["servers"] == [{"url": f"/{dialect}"}]
    assert client.get(f"/{dialect}/docs", headers={"Authorization": "Bearer nonsense"}).status_code == 200
