"""The FastAPI app of the `run` service: /healthz, /readyz and /metrics (issue 14's web UI joins it later)."""

from __future__ import annotations

from typing import Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder


class ReadinessProbe(Protocol):
    """Says why the service is not ready; an empty list when it is."""

    def reasons(self) -> list[str]: ...


def create_app(*, readiness: ReadinessProbe, registry: CollectorRegistry) -> FastAPI:
    """The app over what it serves: a readiness probe and the service's own metrics registry (no globals)."""
    app = FastAPI(title="spotilla-procountor", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """200 while the process lives and serves."""
        return {"status": "alive"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """200 when ready; 503 with every reason otherwise."""
        reasons = readiness.reasons()
        body = {"status": "not ready" if reasons else "ready", "reasons": reasons}
        return JSONResponse(body, status_code=503 if reasons else 200)

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        """Prometheus text (0.0.4), or OpenMetrics when the scraper asks for it."""
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(registry), headers={"Content-Type": content_type})

    return app
