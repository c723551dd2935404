"""subscriptions tables (see tables.py for the conventions: tenant_id in every key and foreign key)."""

from __future__ import annotations
