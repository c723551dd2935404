"""One tenant of a test server: its credentials, and the official SDKs' clients pointed at it.

The SDKs are optional: each is imported only when a client for it is asked for, and a missing one
raises SdkMissing naming the package to install (the pytest fixtures turn that into a skip).
"""

from __future__ import annotations

import importlib
import json
import urllib.parse
import urllib.request
from dataclasses import dataclass
from types import ModuleType
from typing import Any

HTTP_TIMEOUT_SECONDS = 30.0


class SdkMissing(ImportError):
    """An official SDK a client was asked for is not installed."""


def import_sdk(module: str, package: str) -> ModuleType:
    """The SDK's module, or SdkMissing saying which package to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise SdkMissing(f"{module} is not installed: `pip install {package}` to use it with bulkbill") from exc


@dataclass(frozen=True)
class Tenant:
    """A tenant's credentials (shown once, as `bulkbill tenants create` shows them) on the server at `url`."""

    url: str
    id: str
    name: str
    stripe_secret_key: str
    zuora_client_id: str
    zuora_client_secret: str

    def stripe_client(self, **options: Any) -> Any:
        """A `stripe.StripeClient` on this tenant's key and server, with no retries (a test sees each answer);
        `options` go to StripeClient (e.g. `http_client`)."""
        stripe = import_sdk("stripe", "stripe")
        options.setdefault("max_network_retries", 0)
        return stripe.StripeClient(self.stripe_secret_key, base_addresses={"api": self.url + "/stripe"}, **options)

    def zuora_token(self) -> str:
        """A bearer token from the tenant's client credentials (POST /zuora/oauth/token, as zuora-sdk users do)."""
        form = urllib.parse.urlencode(
            {
                "client_id": self.zuora_client_id,
                "client_secret": self.zuora_client_secret,
                "grant_type": "client_credentials",
            }
        ).encode()
        request = urllib.request.Request(self.url + "/zuora/oauth/token", data=form, method="POST")
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            token: str = json.load(response)["access_token"]
        return token

    def zuora_api_client(self, token: str | None = None) -> Any:
        """A `zuora_sdk.ApiClient` on this tenant's server holding a bearer token (a fresh one unless given)."""
        zuora_sdk = import_sdk("zuora_sdk", "zuora-sdk")
        configuration = zuora_sdk.Configuration(host=self.url + "/zuora", access_token=token or self.zuora_token())
        return zuora_sdk.ApiClient(configuration)
