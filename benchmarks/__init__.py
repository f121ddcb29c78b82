"""The benchmark of the service: a measuring tool kept out of the installed package (run `python -m benchmarks`).

It imports the service from the installed `spotilla_procountor`; nothing under src/ imports it.
"""
