"""Composition root, settings and command line."""
