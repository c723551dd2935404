"""What a billed line costs the database: COPY of invoice_items and invoice_lines, constraint by constraint.

On a throw-away PostgreSQL cluster (or --database-url), this loads bill_run.py's data set, bills it
once with bill_run.py's raw-SQL baseline (real rows, on the real tables made by Alembic) and keeps
the invoice_items and invoice_lines rows as COPY text. Then each variant, in its own transaction
that is rolled back (PostgreSQL's DDL is transactional): empty both tables, change the schema as
the variant says, COPY the items, then the lines, and time each COPY. The invoices and customers
the rows point to stay, so each foreign key is checked as in a run. Variants run alternately
--repeat times; each keeps its best time. Each COPY is timed on the clock and as the CPU seconds
the server process used (read from /proc on a local server): on a shared machine the clock
measures the neighbours, the CPU seconds what the schema costs.

  all             the schema as it is (4 foreign keys, 7 indexes);
  -<constraint>   that foreign key or index dropped;
  no FKs          every foreign key of both tables dropped;
  bare            only the primary keys and the unique billed source (no FK, no other index);
  one row         one table: an invoice line carrying its item's fields (both ids kept), with the
                  guarantees of both (billed-once, tenant-carrying keys to customers and invoices,
                  unique line id and position);
  one row, no FK  the same without its foreign keys (the floor of that design);
  sorted          the schema as it is, rows sent in primary-key order;
  line key carries its invoice
                  one deferred key line -> item (tenant_id, invoice_id, item_id) instead of the
                  line's two keys; the item's unique (tenant_id, invoice_id, id) replaces its
                  (tenant_id, invoice_id) index.

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
ITEM_INDEXES = ("ix_invoice_items_pending", "ix_invoice_items_invoice")
LINE_CONSTRAINTS = (
    "fk_invoice_lines_tenant_id_invoice_id_invoices",
    "fk_invoice_lines_tenant_id_item_id_invoice_items",
    "uq_invoice_lines_tenant_id_item_id",
    "uq_invoice_lines_tenant_id_invoice_id_position",
)

ONE_ROW = """
CREATE TABLE billed_lines (LIKE invoice_items INCLUDING DEFAULTS);
ALTER TABLE billed_lines ADD COLUMN line_id varchar(64), ADD COLUMN position integer,
    ADD COLUMN discount_amounts json, ADD COLUMN taxes json;
ALTER TABLE billed_lines ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE billed_lines ADD UNIQUE (tenant_id, source_type, source_id);
ALTER TABLE billed_lines ADD UNIQUE (tenant_id, line_id);
ALTER TABLE billed_lines ADD UNIQUE (tenant_id, invoice_id, position);
CREATE INDEX ON billed_lines (tenant_id, customer_id, invoice_id);
"""
ONE_ROW_FKS = """
ALTER TABLE billed_lines ADD FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id);
ALTER TABLE billed_lines ADD FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id);
"""


@dataclass
class Variant:
    name: str
    setup: Callable[[object], None]
    items_table: str = "invoice_items"
    lines_table: str | None = "invoice_lines"
    sorted_rows: bool = False
    items: list[tuple[float, float]] = field(default_factory=list)  # (wall, server CPU) seconds per round
    lines: list[tuple[float, float]] = field(default_factory=list)

    def best(self, rows: list[tuple[float, float]], which: int) -> float:
        return min(r[which] for r in rows) if rows else 0.0

    def total(self, which: int) -> float:
        """Best wall (0) or CPU (1) seconds of items plus best of lines."""
        return self.best(self.items, which) + self.best(self.lines, which)


def _drop(
    items: Sequence[str] = (), lines: Sequence[str] = (), indexes: Sequence[str] = ()
) -> Callable[[object], None]:
    def setup(conn: object) -> None:
        for name in items:
            conn.execute(f"ALTER TABLE invoice_items DROP CONSTRAINT {name}")  # type: ignore[attr-defined]
        for name in lines:
            conn.execute(f"ALTER TABLE invoice_lines DROP CONSTRAINT {name}")  # type: ignore[attr-defined]
        for name in indexes:
            conn.execute(f"DROP INDEX {name}")  # type: ignore[attr-defined]

    return setup


def _one_row(with_fks: bool) -> Callable[[object], None]:
    def setup(conn: object) -> None:
        conn.execute(ONE_ROW)  # type: ignore[attr-defined]
        if with_fks:
            conn.execute(ONE_ROW_FKS)  # type: ignore[attr-defined]

    return setup


def _line_key_with_invoice(conn: object) -> None:
    """One composite key line -> (item, invoice) instead of line -> item and line -> invoice.

    The item's unique (tenant_id, invoice_id, id) replaces its (tenant_id, invoice_id) index; the
    line's invoice is then its item's, which the item's own key ties to an existing invoice.
    """
    _drop(lines=LINE_CONSTRAINTS[:2], indexes=["ix_invoice_items_invoice"])(conn)
    conn.execute(  # type: ignore[attr-defined]
        "ALTER TABLE invoice_items ADD CONSTRAINT uq_items_invoice UNIQUE (tenant_id, invoice_id, id);"
        "ALTER TABLE invoice_lines ADD FOREIGN KEY (tenant_id, invoice_id, item_id)"
        " REFERENCES invoice_items (tenant_id, invoice_id, id) DEFERRABLE INITIALLY DEFERRED"
    )


def variants() -> list[Variant]:
    out = [Variant("all", _drop())]
    out += [Variant(f"-{name}", _drop(items=[name])) for name in ITEM_CONSTRAINTS]
    out += [Variant(f"-{name}", _drop(indexes=[name])) for name in ITEM_INDEXES]
    # The line -> item key needs uq_invoice_lines_tenant_id_item_id's index? No: it refers to the items' key.
    out += [Variant(f"-{name}", _drop(lines=[name])) for name in LINE_CONSTRAINTS]
    out.append(Variant("no FKs", _drop(items=ITEM_CONSTRAINTS, lines=LINE_CONSTRAINTS[:2])))
    out.append(Variant("bare", _drop(items=ITEM_CONSTRAINTS, lines=LINE_CONSTRAINTS, indexes=ITEM_INDEXES)))
    out.append(Variant("sorted", _drop(), sorted_rows=True))
    out.append(Variant("line key carries its invoice", _line_key_with_invoice))
    out.append(Variant("one row", _one_row(True), items_table="billed_lines", lines_table=None))
    out.append(Variant("one row, no FK", _one_row(False), items_table="billed_lines", lines_table=None))
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
        items = dump(conn, "SELECT * FROM invoice_items")
        lines = dump(conn, "SELECT * FROM invoice_lines")
        items_sorted = dump(conn, "SELECT * FROM invoice_items ORDER BY tenant_id, id")
        lines_sorted = dump(conn, "SELECT * FROM invoice_lines ORDER BY tenant_id, id")
        one = dump(
            conn,
            "SELECT i.*, l.id, l.position, l.discount_amounts, l.taxes FROM invoice_items i"
            " JOIN invoice_lines l ON l.tenant_id = i.tenant_id AND l.item_id = i.id",
        )
        count = conn.execute("SELECT count(*) FROM invoice_items").fetchone()[0]  # type: ignore[index]
    found = variants()
    with psycopg.connect(dsn) as conn:
        for round_ in range(rounds):
            for variant in found:
                with conn.transaction(force_rollback=True):
                    conn.execute("TRUNCATE invoice_lines, invoice_items")
                    variant.setup(conn)
                    if variant.lines_table is None:
                        variant.items.append(copy_in(conn, variant.items_table, one))
                    else:
                        variant.items.append(
                            copy_in(conn, "invoice_items", items_sorted if variant.sorted_rows else items)
                        )
                        variant.lines.append(
                            copy_in(
                                conn,
                                "invoice_lines",
                                lines_sorted if variant.sorted_rows else lines,
                                "SET CONSTRAINTS ALL IMMEDIATE",  # deferred checks run here, timed with the lines
                            )
                        )
                    wall, cpu = variant.items[-1]
                    if variant.lines:
                        wall, cpu = wall + variant.lines[-1][0], cpu + variant.lines[-1][1]
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
    wall, cpu = found[0].total(0), found[0].total(1)
    print()
    print(f"== COPY of {count:,} billed lines, best of {args.repeat}; {load} ==")
    print("wall: seconds on the clock; cpu: the server process's CPU seconds (what the load does not inflate)")
    head = f"{'items':>7}{'lines':>7}{'total':>7}{'lines/s':>9}{'vs all':>7}"
    print(f"{'':<52}{'|':<2}{'wall':^37}{'|':<2}{'cpu':^37}")
    print(f"{'variant':<52}| {head}| {head}")
    for v in found:
        row = f"{v.name:<52}"
        for which, base in ((0, wall), (1, cpu)):
            lines = f"{v.best(v.lines, which):>7.2f}" if v.lines else f"{'-':>7}"
            total = v.total(which)
            rate = count / total if total else 0.0
            ratio = total / base if base else 0.0
            row += f"| {v.best(v.items, which):>7.2f}{lines}{total:>7.2f}{rate:>9,.0f}{ratio:>7.2f}"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
