"""Database layer: models, migrations, engine and session, embedded PostgreSQL, queries."""
