"""Tests of the SQL adapter: Spotilla's registers and the integration's own tables."""
