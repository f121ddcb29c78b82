"""Spotilla ↔ Procountor integration: completed work orders become Procountor sales invoices."""
