"""Accounting periods and what a closed period forbids."""
