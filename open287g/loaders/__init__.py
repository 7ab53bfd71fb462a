"""Ingest: read public source files, validate and normalize them, write them with provenance."""
