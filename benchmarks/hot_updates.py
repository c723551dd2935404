"""A draft's item edits on PostgreSQL: the 1,000-item UPDATE of PUT /v1/invoices 50 x 20 at fillfactor 100 and 70.

Copies `invoice_items` (its columns and indexes, at head) into a table per fillfactor, fills it with
100,000 items (5,000 invoices of 20, in invoice order, as a bill run writes them), then times the
benchmark's UPDATE ... FROM unnest of 1,000 items (50 invoices x 20) several times: with room on the
page the new row versions are heap-only (HOT: no new index entries). docs/performance.md ("Round 5")
holds a run; migration 0021_invoice_items_fillfactor is the decision.

    .venv/bin/python benchmarks/hot_updates.py --fillfactors 100,70,100,70
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import psycopg

from bulkbill.devtools.pg_cluster import PgCluster
from bulkbill.storage.db import create_db_engine
from bulkbill.storage.migrate import upgrade

COLUMNS = (
    "tenant_id,id,customer_id,invoice_id,kind,currency,unit_amount_decimal,quantity_decimal,amount,amount_defined,"
    "description,discountable,discounts,period_start,period_end,metadata,created,custom_fields,extras,line_id,"
    "position,discount_amounts,taxes"
)
FILL = (
    "SELECT 't1', 'ii_' || lpad(g::text, 8, '0'), 'cus_' || (g / 200), 'in_' || lpad((g / 20)::text, 6, '0'), "
    "'invoice_item', 'usd', 100, 1, 100, true, 'item ' || g, true, '[]', 0, 0, '{}', 0, '{}', "
    "'{\"chargeName\": \"x\"}', 'il_' || lpad(g::text, 8, '0'), g % 20, '[]', '[]' FROM generate_series(0, 99999) g"
)


def run(conn: psycopg.Connection[tuple[object, ...]], fillfactor: int, updates: int) -> str:
    table = f"items_ff{fillfactor}"
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} (LIKE invoice_items INCLUDING ALL) WITH (fillfactor = {fillfactor})")
    started = time.perf_counter()
    conn.execute(f"INSERT INTO {table} ({COLUMNS}) {FILL}")
    insert_ms = (time.perf_counter() - started) * 1000
    conn.execute(f"VACUUM ANALYZE {table}")
    statement = (
        f"UPDATE {table} SET amount = given.amount, description = given.description, "
        "unit_amount_decimal = given.amount::numeric "
        "FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[]) AS given(tenant_id, id, amount, description) "
        f"WHERE {table}.tenant_id = given.tenant_id AND {table}.id = given.id"
    )
    ids = [f"ii_{g:08d}" for g in range(40000, 41000)]  # 50 invoices x 20 items
    times = []
    for n in range(updates):
        started = time.perf_counter()
        conn.execute(statement, (["t1"] * len(ids), ids, [101 + n] * len(ids), [f"edited {n} {i}" for i in ids]))
        times.append((time.perf_counter() - started) * 1000)
    pages = conn.execute("SELECT pg_relation_size(%s) / 8192", (table,)).fetchone()
    shown = ", ".join(f"{t:.1f}" for t in times)
    return (
        f"fillfactor {fillfactor}: UPDATE of 1,000 items, ms per iteration [{shown}], median "
        f"{statistics.median(times):.1f}; pages {pages[0] if pages else '?'}; insert of 100k rows {insert_ms:.0f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fillfactors", default="100,70,100,70", help="comma-separated, measured in this order")
    parser.add_argument("--updates", type=int, default=8, help="UPDATEs per table (default 8)")
    args = parser.parse_args(argv)
    cluster = PgCluster.start()
    try:
        url = cluster.create_database("bulkbill_hot_updates")
        upgrade(create_db_engine(url))
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            for fillfactor in (int(f) for f in args.fillfactors.split(",")):
                print(run(conn, fillfactor, args.updates), flush=True)
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
