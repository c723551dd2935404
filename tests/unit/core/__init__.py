"""Unit tests of the pure core (no I/O, no database); their factories are in tests/helpers/core.py."""
