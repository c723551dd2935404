"""Benchmark billing documents: PDF (typst) and HTML (Jinja2) render times, and pre-render throughput.

  p50 PDF      median time to render one PDF of a 10-line and of a 250-line invoice (each iteration a
               different document, so nothing is served from typst's memo);
  p50 HTML     the same for the hosted page's HTML;
  pre-render   --documents distinct 10-line invoices rendered back to back, as `bulkbill documents
               render` does (build → hash → PDF); documents/s over the wall time, PDF bytes only
               (the database write of each file is not included).

    .venv/bin/python benchmarks/documents.py
    .venv/bin/python benchmarks/documents.py --iterations 50 --documents 10000
    .venv/bin/python benchmarks/documents.py --locale ja   # labels in Japanese: the CJK font fallback

The machine's load average is printed with the figures: they mean little on a busy machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from collections.abc import Callable

from bulkbill.core.documents.model import Document, content_hash
from bulkbill.devtools.sample_documents import invoice
from bulkbill.services.rendering.html import render_html
from bulkbill.services.rendering.pdf import render_pdf


def _numbered(lines: int, k: int, locale: str) -> Document:
    return dataclasses.replace(invoice(lines, locale=locale), number=f"BENCH-{lines}-{k:06d}")


def p50_ms(render: Callable[[Document], object], lines: int, iterations: int, locale: str) -> float:
    render(_numbered(lines, -1, locale))  # warm: the compiler and its fonts load once per process
    times = []
    for k in range(iterations):
        document = _numbered(lines, k, locale)
        started = time.perf_counter()
        render(document)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def prerender_rate(documents: int, locale: str) -> float:
    started = time.perf_counter()
    for k in range(documents):
        document = _numbered(10, 1_000_000 + k, locale)
        content_hash(document)
        render_pdf(document)
    return documents / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--locale", default="en", help="the documents' locale (labels, money and dates)")
    args = parser.parse_args()
    load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print(f"before: {load}")
    html = lambda d: render_html(d, pdf_url=None)  # noqa: E731
    for lines in (10, 250):
        pdf_ms = p50_ms(render_pdf, lines, args.iterations, args.locale)
        html_ms = p50_ms(html, lines, args.iterations, args.locale)
        print(f"{lines:>3}-line invoice: p50 PDF {pdf_ms:.1f} ms, p50 HTML {html_ms:.2f} ms ({args.iterations} each)")
    rate = prerender_rate(args.documents, args.locale)
    print(f"pre-render: {args.documents} documents of 10 lines ({args.locale}) at {rate:.1f} documents/s")
    print("after: load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
