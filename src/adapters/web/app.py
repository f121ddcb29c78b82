"""The FastAPI app of the `run` service: /healthz, /readyz, /metrics, and Settings → Integrations (API and pages)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from spotilla_procountor.adapters.web.api import Guard, api_router, install_error_answers
from spotilla_procountor.adapters.web.auth import Tokens
from spotilla_procountor.adapters.web.pages import STATIC, pages_router
from spotilla_procountor.app.admin import IntegrationAdmin


class ReadinessProbe(Protocol):
    """Says why the service is not ready; an empty list when it is."""

    def reasons(self) -> list[str]: ...


def create_app(
    *,
    readiness: ReadinessProbe,
    registry: CollectorRegistry,
    admin: Callable[[], IntegrationAdmin] | None = None,
    tokens: Callable[[], Tokens | None] = lambda: None,
) -> FastAPI:
    """The app over what it serves: a readiness probe and the service's own metrics registry (no globals), and,
    with `admin`, the JSON API and the pages; `tokens` is None while WEB_JWT_SECRET is not set (they answer 503)."""
    app = FastAPI(
        title="spotilla-procountor",
        summary="Settings → Integrations: the Spotilla ↔ Procountor integration of one organization",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    if admin is not None:
        guard = Guard(tokens)
        install_error_answers(app)
        app.include_router(api_router(admin, guard))
        app.include_router(pages_router(admin, guard, tokens))
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # The probes never queue behind the pages and the API: those run on the server's shared thread pool and may
    # each wait for Procountor for seconds, so a busy admin could otherwise make a live service look dead.
    # /healthz runs on the event loop itself; /readyz and /metrics, which read the database, on threads of their own.
    operations = ThreadPoolExecutor(max_workers=2, thread_name_prefix="probes")

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """200 while the process lives and serves."""
        return {"status": "alive"}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> JSONResponse:
        """200 when ready; 503 with every reason otherwise."""
        reasons = await asyncio.get_running_loop().run_in_executor(operations, readiness.reasons)
        body = {"status": "not ready" if reasons else "ready", "reasons": reasons}
        return JSONResponse(body, status_code=503 if reasons else 200)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def metrics(request: Request) -> Response:
        """Prometheus text (0.0.4), or OpenMetrics when the scraper asks for it."""
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        text = await asyncio.get_running_loop().run_in_executor(operations, encode, registry)
        return Response(text, headers={"Content-Type": content_type})

    return app
