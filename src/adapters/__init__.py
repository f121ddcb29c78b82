"""Adapters that carry out the domain's decisions: Procountor HTTP, fake Procountor, database, scheduler."""
