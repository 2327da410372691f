"""Storage: SQLAlchemy models, engine/session setup, migrations. Knows nothing of HTTP/services."""
