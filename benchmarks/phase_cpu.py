"""CPU time per phase of the Stripe hot path, without a profiler (docs/performance.md, "Hot path").

cProfile's timer is the wall clock, and it roughly doubles Python-heavy code: on a shared machine a
busy neighbour's time lands on whatever function was running. This script instead wraps the
functions that mark each phase with a timer of the calling thread's CPU time, drives the same calls
as `profile_hot_path.py` (its --timing-only run), and prints each phase's CPU milliseconds per call
(inclusive; phases nest). Run it against another tree with PYTHONPATH=<tree>/src for an A/B; phases
whose function a tree does not have are left out.

    .venv/bin/python benchmarks/phase_cpu.py --iterations 30 [--only add_lines]
    .venv/bin/python benchmarks/phase_cpu.py --iterations 10 --zuora invoices_put_50x20   (profile_zuora_bulk's calls)
"""

from __future__ import annotations

import argparse
import collections
import functools
import importlib
import inspect
import sys
import time
from pathlib import Path
from typing import Any

# (label, module, attribute path): inclusive, outermost call only.
PHASES = [
    ("whole request (ASGI app)", "bulkbill.api.access_log", "AccessLog.__call__"),
    ("FastAPI dependencies (+ form decoding)", "fastapi.routing", "solve_dependencies"),
    ("form decoding", "bulkbill.api.stripe.edge.forms", "decode_form"),
    ("idempotency: look (SQLite, own txn)", "bulkbill.api.idempotent", "_Call._look"),
    ("idempotency: claim", "bulkbill.api.idempotent", "_Call._claim"),
    ("idempotency: finish", "bulkbill.services.platform.idempotency", "finish"),
    ("parameter checks", "bulkbill.api.stripe.edge.params", "parse"),
    ("service: add_lines", "bulkbill.services.invoicing.invoice_lines", "add_lines"),
    ("service: update_lines", "bulkbill.services.invoicing.invoice_lines", "update_lines"),
    ("service: remove_lines", "bulkbill.services.invoicing.invoice_lines", "remove_lines"),
    ("  open the draft (invoice, customer)", "bulkbill.services.invoicing.invoice_lines", "_open_draft"),
    ("  references (prices, ...)", "bulkbill.services.invoicing.references", "load_references"),
    ("  figure rows of every line", "bulkbill.services.invoicing.invoice_totals", "load_figure_rows"),
    (
        "  figure rows + discount items (applied_to)",
        "bulkbill.services.invoicing.invoice_totals",
        "load_figures_and_applied_to",
    ),
    ("  discount items (applied_to_of)", "bulkbill.services.invoicing.item_rows", "applied_to_of"),
    ("  core planning (add)", "bulkbill.core.invoicing.lines", "plan_add_lines"),
    ("  core planning (update)", "bulkbill.core.invoicing.lines", "plan_update_lines"),
    ("  totals (recalculate_rows)", "bulkbill.services.invoicing.invoice_totals", "recalculate_rows"),
    ("response rendering", "bulkbill.api.stripe.invoicing.invoices", "invoice_response"),
    ("  its 10 lines (ORM load)", "bulkbill.services.invoicing.invoice_totals", "load_lines"),
    ("  its 10 lines (plain rows)", "bulkbill.services.invoicing.invoice_views", "first_lines"),
    ("Zuora PUT: service (update_documents)", "bulkbill.services.documents.document_edits", "update_documents"),
    ("  Zuora: request validation (pydantic)", "bulkbill.api.zuora.edge.validation", "parse_model"),
    ("  Zuora: commands (document_edit)", "bulkbill.api.zuora.documents.invoice_models", "document_edit"),
    ("  Zuora: invoice currencies", "bulkbill.services.documents.documents", "document_currencies"),
    ("  PUT: load lines", "bulkbill.services.documents.edited_lines", "load_edited_lines"),
    ("  PUT: check and price items", "bulkbill.services.documents.document_edits", "_check_document"),
    ("    of which core pricing (price_item)", "bulkbill.core.invoicing.document_edits", "price_item"),
    ("  PUT: apply (changed columns)", "bulkbill.services.documents.document_edits", "_apply"),
    ("  PUT: write items", "bulkbill.services.invoicing.item_rows", "write_item_changes"),
    ("  PUT: totals (recalculate_rows_many)", "bulkbill.services.invoicing.invoice_totals", "recalculate_rows_many"),
    ("Zuora OLI: service (update_line_items)", "bulkbill.services.orders.order_line_items", "update_line_items"),
    ("  OLI: lock lines (lock_with_originals)", "bulkbill.services.orders.line_locks", "lock_with_originals"),
    ("  OLI: plan (plan_line_update)", "bulkbill.services.orders.order_line_items", "plan_line_update"),
    ("  OLI: write", "bulkbill.services.orders.order_line_items", "_write"),
    ("  runBilling: source records", "bulkbill.services.billing.billing_sets", "select_records"),
    ("  runBilling: accounts", "bulkbill.services.billing.billing_sets", "load_accounts"),
    ("  runBilling: write documents", "bulkbill.services.billing.billing_sets", "write_documents"),
    ("  runBilling: (generate_documents)", "bulkbill.services.billing.run_billing", "generate_documents"),
    ("    numbers (take_numbers)", "bulkbill.services.billing.sequences", "take_numbers"),
    ("    bulk inserts (insert_rows)", "bulkbill.storage.bulk", "insert_rows"),
    ("    open period check", "bulkbill.services.accounting.periods", "ensure_open_period"),
    ("    balances (_post)", "bulkbill.services.billing.billing_sets", "_post"),
    ("Zuora OLI: response views (load_views)", "bulkbill.services.orders.order_views", "load_views"),
    ("Zuora OLI: response lines (render_line)", "bulkbill.api.zuora.orders.order_render", "render_line"),
    ("events: before the change", "bulkbill.services.events.outbox", "changing"),
    ("events: emitted (outbox.emit)", "bulkbill.services.events.outbox", "emit"),
    ("events: written at commit", "bulkbill.services.events.outbox", "_write"),
    ("  invoices with their lines (invoice_views)", "bulkbill.services.invoicing.invoice_views", "invoice_views"),
    ("  invoices rendered (render_invoice)", "bulkbill.api.stripe.invoicing.invoice_render", "render_invoice"),
    ("  items rendered (render_item)", "bulkbill.api.stripe.invoicing.invoice_render", "render_item"),
    ("commit (incl. events written)", "sqlalchemy.orm.session", "SessionTransaction.commit"),
    ("Session.execute (all)", "sqlalchemy.orm.session", "Session.execute"),
    ("Session.get (all)", "sqlalchemy.orm.session", "Session.get"),
    ("Session.flush (all, outside commit)", "sqlalchemy.orm.session", "Session.flush"),
]

_active = [False]
_seconds: collections.defaultdict[str, float] = collections.defaultdict(float)
_calls: collections.Counter[str] = collections.Counter()
_depth: collections.Counter[str] = collections.Counter()


def _wrap(label: str, module: str, path: str) -> bool:
    try:
        owner: Any = importlib.import_module(module)
        *parents, name = path.split(".")
        for part in parents:
            owner = getattr(owner, part)
        fn = getattr(owner, name)
    except (ImportError, AttributeError):
        return False

    def done(start: float) -> None:
        _depth[label] -= 1
        if not _depth[label] and _active[0]:
            _seconds[label] += time.thread_time() - start
            _calls[label] += 1

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            _depth[label] += 1
            try:
                return await fn(*args, **kwargs)
            finally:
                done(start)

        wrapper: Any = timed_async
    else:

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            _depth[label] += 1
            try:
                return fn(*args, **kwargs)
            finally:
                done(start)

        wrapper = timed
    setattr(owner, name, wrapper)
    if not parents:  # modules that imported the function by name call their own reference
        for other in list(sys.modules.values()):
            if getattr(other, "__name__", "").startswith("bulkbill") and getattr(other, name, None) is fn:
                setattr(other, name, wrapper)
    return True


class _Switch:
    """Stands in for cProfile.Profile in profile_hot_path: on while one timed call runs."""

    def enable(self) -> None:
        _active[0] = True

    def disable(self) -> None:
        _active[0] = False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--only", default=None, help="only the calls whose label contains this text")
    parser.add_argument("--zuora", default=None, help="instead: this call of profile_zuora_bulk (invoices_put_50x20)")
    parser.add_argument("--postgres", action="store_true", help="with --zuora: on a throw-away PostgreSQL cluster")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    importlib.import_module("bulkbill.api.app")  # every module the phases name, imported before wrapping

    labels = [label for label, module, path in PHASES if _wrap(label, module, path)]
    from benchmarks import profile_hot_path, profile_zuora_bulk

    class _Stats:  # the profiled run prints nothing of its own here
        stats: dict[Any, Any] = {}

        def __init__(self, *_args: Any) -> None: ...

        def sort_stats(self, *_args: Any) -> _Stats:
            return self

        def print_stats(self, *_args: Any) -> None: ...

        def dump_stats(self, *_args: Any) -> None: ...

    profile_hot_path.cProfile.Profile = _Switch  # type: ignore[assignment, misc]
    profile_hot_path.pstats.Stats = _Stats  # type: ignore[assignment, misc]
    driven: Any = profile_zuora_bulk if args.zuora else profile_hot_path
    real_print = print
    n = args.iterations

    def report(*parts: Any, **_kwargs: Any) -> None:
        text = " ".join(str(p) for p in parts)
        if text.startswith("database:"):
            real_print(text)
        if text.startswith("\n== "):  # a call's profiled run is over: print its phases
            real_print(text.strip())
            for label in labels:
                if _calls[label]:
                    real_print(
                        f"    {label:<42}{_seconds[label] * 1000 / n:8.2f} ms CPU  ({_calls[label] / n:.0f}/call)"
                    )
            _seconds.clear()
            _calls.clear()

    driven.print = report
    if args.zuora:  # its profiled run (the switch on) is the timed call, once per iteration
        on_postgres = ["--postgres"] if args.postgres else []
        return int(profile_zuora_bulk.main(["--iterations", str(n), "--calls", args.zuora, *on_postgres]))
    only = ["--only", args.only] if args.only else []
    return profile_hot_path.main(["--iterations", str(n), *only])


if __name__ == "__main__":
    sys.exit(main())
