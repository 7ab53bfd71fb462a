"""ICE detainer releases, aggregated while reading: no person-level row is ever stored."""
