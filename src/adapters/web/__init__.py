"""The service's own HTTP face: health, readiness and Prometheus metrics (the web UI joins this app later)."""
