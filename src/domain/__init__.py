"""Sync rules and ports: pure Python, no infrastructure imports."""
