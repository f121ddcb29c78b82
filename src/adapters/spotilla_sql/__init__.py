"""Spotilla database and the integration's own state, with SQLAlchemy."""
