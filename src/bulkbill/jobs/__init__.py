"""Work that runs later or elsewhere (bill-run workers arrive with the scale issue)."""
