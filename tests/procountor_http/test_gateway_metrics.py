"""What the gateway factory's observer hears: every request by route template and status, 429s, the limiter.

The real gateway and the real Prometheus metrics, over the fake Procountor in-process.
"""

from __future__ import annotations

import pytest
from procountor_http_support import new_partner, new_product

from spotilla_procountor.adapters.procountor_fake import FakeProcountor, FaultPlan
from spotilla_procountor.adapters.procountor_http.observer import NO_ANSWER, route_template
from spotilla_procountor.adapters.web.metrics import ServiceMetrics
from spotilla_procountor.app.gateways import FAKE_BASE_URL, GatewayFactory
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.errors import OutcomeUnknown

REQUESTS = "spotilla_procountor_api_requests_total"


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/api/businesspartners/41", "/businesspartners/{id}"),
        ("/api/businesspartners/41,42,1337", "/businesspartners/{id}"),
        ("/api/invoices/9", "/invoices/{id}"),
        ("/api/invoices", "/invoices"),
        ("/api/oauth/token", "/oauth/token"),
        ("/v2401/api/products", "/products"),
        ("/other/products/7", "/other/products/{id}"),  # another prefix than the client's stays, ids still go
    ],
)
def test_a_route_is_the_path_without_the_api_prefix_and_with_every_id_a_placeholder(path: str, route: str) -> None:
    prefix = "/v2401/api" if path.startswith("/v2401") else "/api"
    assert route_template(path, prefix) == route


@pytest.fixture
def fake() -> FakeProcountor:
    return FakeProcountor()


@pytest.fixture
def metrics() -> ServiceMetrics:
    return ServiceMetrics()


def _gateway(fake: FakeProcountor, metrics: ServiceMetrics, **settings: object):
    factory = GatewayFactory(
        settings=Settings(_env_file=None, **settings), transport=fake.transport(), observer=metrics
    )
    return factory.gateway(
        environment="test", client_id="demo-client", client_secret="demo-secret", api_key="demo-api-key"
    )


def test_requests_are_counted_by_method_route_template_and_status_never_by_raw_id(
    fake: FakeProcountor, metrics: ServiceMetrics
) -> None:
    with _gateway(fake, metrics) as gateway:
        created = [gateway.create_partner(new_partner(n)) for n in (1, 2)]
        gateway.get_partners([p.id for p in created])
        gateway.get_partners([created[0].id])
        gateway.create_product(new_product())

    def sample(method: str, route: str, status: str) -> float | None:
        return metrics.registry.get_sample_value(REQUESTS, {"method": method, "route": route, "status": status})

    assert sample("POST", "/oauth/token", "200") == 1
    assert sample("POST", "/businesspartners", "200") == 2
    assert sample("GET", "/businesspartners/{id}", "200") == 2
    assert sample("POST", "/products", "200") == 1
    routes = {s.labels["route"] for f in metrics.registry.collect() for s in f.samples if s.name == REQUESTS}
    assert not any(ch.isdigit() for route in routes for ch in route)


def test_a_429_is_counted_and_the_limiter_s_widened_margin_is_read_at_scrape_time(
    fake: FakeProcountor, metrics: ServiceMetrics
) -> None:
    fake.set_faults(FaultPlan(burst_429={"GET /products": 1}, retry_after_s=0))
    with _gateway(fake, metrics, rate_limit_margin=0.05) as gateway:
        assert metrics.registry.get_sample_value("spotilla_procountor_api_throttled_total") == 0
        list(gateway.list_products())

    labels = {"client_id": "demo-client", "base_url": FAKE_BASE_URL}
    assert metrics.registry.get_sample_value("spotilla_procountor_api_throttled_total") == 1
    assert metrics.registry.get_sample_value(REQUESTS, {"method": "GET", "route": "/products", "status": "429"}) == 1
    assert metrics.registry.get_sample_value(REQUESTS, {"method": "GET", "route": "/products", "status": "200"}) == 1
    assert metrics.registry.get_sample_value("spotilla_procountor_rate_limit_margin_ratio", labels) == pytest.approx(
        0.10
    )
    queue = metrics.registry.get_sample_value("spotilla_procountor_rate_limit_queue_seconds", labels)
    assert queue is not None and 0 <= queue <= 1.1 / 20


def test_a_request_that_got_no_answer_is_counted_as_such(metrics: ServiceMetrics) -> None:
    fake = FakeProcountor(faults=FaultPlan(timeout_rate={"POST /products": 1.0}, timeout_sleep_s=0))
    with _gateway(fake, metrics) as gateway, pytest.raises(OutcomeUnknown):
        gateway.create_product(new_product())
    lost = {"method": "POST", "route": "/products", "status": NO_ANSWER}
    assert metrics.registry.get_sample_value(REQUESTS, lost) == 1
