"""What a billed line costs the database: COPY of invoice_items (one row per line), constraint by constraint.

On a throw-away PostgreSQL cluster (or --database-url), this loads bill_run.py's data set, bills it
once with bill_run.py's raw-SQL baseline (real rows, on the real tables made by Alembic) and keeps
the invoice_items rows (each an item and its invoice line) as COPY text. Then each variant, in its
own transaction that is rolled back (PostgreSQL's DDL is transactional): empty the table, change
the schema as the variant says, COPY the rows and time it. The invoices and customers the rows
point to stay, so each foreign key is checked as in a run. Variants run alternately --repeat
times; each keeps its best time. Each COPY is timed on the clock and as the CPU seconds the server
process used (read from /proc on a local server): on a shared machine the clock measures the
neighbours, the CPU seconds what the schema costs.

  all             the schema as it is (2 foreign keys; primary key, 3 unique keys, 1 index; a CHECK);
  -<constraint>   that foreign key, key, index or CHECK dropped;
  no FKs          both foreign keys dropped;
  bare            only the primary key and the unique billed source (no FK, no other key or index);
  sorted          the schema as it is, rows sent in primary-key order.

(The two-row schema this replaced, invoice_items + invoice_lines, was measured by this script's
earlier version: docs/performance.md, "Bill run schema".)

    .venv/bin/python benchmarks/bill_run_schema.py --lines 100000 --accounts 10000 --repeat 2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bill_run import (
    BenchError,
    libpq,
    load_postgres,
    log,
    pg_server,
    prepare_schema,
    proc_stat,
    run_baseline,
)

ITEM_CONSTRAINTS = (
    "fk_invoice_items_tenant_id_customer_id_customers",
    "fk_invoice_items_tenant_id_invoice_id_invoices",
)
# The line's keys and the CHECK that an item is pending or a whole line.
LINE_KEYS = (
    "uq_invoice_items_tenant_id_line_id",
    "uq_invoice_items_tenant_id_invoice_id_position",
    "ck_invoice_items_line_columns",
)
ITEM_INDEXES = ("ix_invoice_items_pending",)


@dataclass
class Variant:
    name: str
    setup: Callable[[object], None]
    sorted_rows: bool = False
    rows: list[tuple[float, float]] = field(default_factory=list)  # (wall, server CPU) seconds per round

    def best(self, which: int) -> float:
        """Best wall (0) or CPU (1) seconds."""
        return min(r[which] for r in self.rows) if self.rows else 0.0


def _drop(constraints: Sequence[str] = (), indexes: Sequence[str] = ()) -> Callable[[object], None]:
    def setup(conn: object) -> None:
        for name in constraints:
            conn.execute(f"ALTER TABLE invoice_items DROP CONSTRAINT {name}")  # type: ignore[attr-defined]
        for name in indexes:
            conn.execute(f"DROP INDEX {name}")  # type: ignore[attr-defined]

    return setup


def variants() -> list[Variant]:
    out = [Variant("all", _drop())]
    out += [Variant(f"-{name}", _drop(constraints=[name])) for name in (*ITEM_CONSTRAINTS, *LINE_KEYS)]
    out += [Variant(f"-{name}", _drop(indexes=[name])) for name in ITEM_INDEXES]
    out.append(Variant("no FKs", _drop(constraints=ITEM_CONSTRAINTS)))
    out.append(Variant("bare", _drop(constraints=(*ITEM_CONSTRAINTS, *LINE_KEYS), indexes=ITEM_INDEXES)))
    out.append(Variant("sorted", _drop(), sorted_rows=True))
    return out


def dump(conn: object, query: str) -> bytes:
    chunks: list[bytes] = []
    with conn.cursor() as cursor, cursor.copy(f"COPY ({query}) TO STDOUT") as copy:  # type: ignore[attr-defined]
        for data in copy:
            chunks.append(bytes(data))
    return b"".join(chunks)


def backend_cpu(pid: int) -> float:
    """CPU seconds the server process `pid` has used (user + system); 0 when it is not on this machine."""
    try:
        fields = proc_stat(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def copy_in(conn: object, table: str, data: bytes, then: str | None = None) -> tuple[float, float]:
    """COPY `data` into `table` (then run `then`, in the same timing); wall and server CPU seconds."""
    pid = conn.info.backend_pid  # type: ignore[attr-defined]
    cpu = backend_cpu(pid)
    started = time.perf_counter()
    with conn.cursor() as cursor, cursor.copy(f"COPY {table} FROM STDIN") as copy:  # type: ignore[attr-defined]
        step = 1 << 20
        for offset in range(0, len(data), step):
            copy.write(data[offset : offset + step])
    if then:
        conn.execute(then)  # type: ignore[attr-defined]
    return time.perf_counter() - started, backend_cpu(pid) - cpu


def measure(dsn: str, rounds: int) -> tuple[list[Variant], int]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = dump(conn, "SELECT * FROM invoice_items")
        rows_sorted = dump(conn, "SELECT * FROM invoice_items ORDER BY tenant_id, id")
        count = conn.execute("SELECT count(*) FROM invoice_items").fetchone()[0]  # type: ignore[index]
    found = variants()
    with psycopg.connect(dsn) as conn:
        for round_ in range(rounds):
            for variant in found:
                with conn.transaction(force_rollback=True):
                    conn.execute("TRUNCATE invoice_items")
                    variant.setup(conn)
                    variant.rows.append(copy_in(conn, "invoice_items", rows_sorted if variant.sorted_rows else rows))
                    wall, cpu = variant.rows[-1]
                    log(f"  round {round_ + 1} {variant.name}: {wall:.2f} s, server CPU {cpu:.2f} s")
    return found, int(count)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("BULKBILL_BENCH_PG_URL"))
    args = parser.parse_args(argv)
    try:
        with pg_server(args.database_url) as server:
            url = server.create("bb_schema")
            log(f"loading {args.lines:,} lines for {args.accounts:,} accounts, billing them with the baseline ...")
            tenant_id = prepare_schema(url)
            load_postgres(libpq(url), tenant_id, args.lines, args.accounts)
            run_baseline(libpq(url), tenant_id)
            found, count = measure(libpq(url), args.repeat)
            server.drop("bb_schema")
    except BenchError as exc:
        log(f"ABORTED: {exc}")
        return 2
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    wall, cpu = found[0].best(0), found[0].best(1)
    print()
    print(f"== COPY of {count:,} billed lines (one row each), best of {args.repeat}; {load} ==")
    print("wall: seconds on the clock; cpu: the server process's CPU seconds (what the load does not inflate)")
    head = f"{'seconds':>8}{'lines/s':>9}{'vs all':>7}"
    print(f"{'':<52}{'|':<2}{'wall':^24}{'|':<2}{'cpu':^24}")
    print(f"{'variant':<52}| {head}| {head}")
    for v in found:
        row = f"{v.name:<52}"
        for which, base in ((0, wall), (1, cpu)):
            seconds = v.best(which)
            rate = count / seconds if seconds else 0.0
            ratio = seconds / base if base else 0.0
            row += f"| {seconds:>8.2f}{rate:>9,.0f}{ratio:>7.2f}"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
