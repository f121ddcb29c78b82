"""Procountor REST API over httpx."""
