"""Set-based writes the loaders make: staging tables, merges, provenance and the change log."""
