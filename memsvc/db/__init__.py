"""Storage: SQLAlchemy models, engine/session setup and migrations. Knows nothing of HTTP or services."""
