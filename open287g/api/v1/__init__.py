"""REST API v1 for data portals: collections, items, stats, changes, exports."""
