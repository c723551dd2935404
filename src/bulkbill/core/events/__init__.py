"""Events: what happened to an object, told to the systems around bulkbill (types, diffs, signatures, retries)."""
