"""Catalog rules: how prices turn quantities into amounts."""
