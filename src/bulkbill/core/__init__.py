"""What billing means: money, invoices, items, lines. Pure Python: no HTTP, no SQL, no dialect."""
