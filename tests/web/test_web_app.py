"""The HTTP face of `run`, built by its factory over a readiness probe and a registry, through FastAPI's client."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families

from spotilla_procountor.adapters.web.app import create_app


class Probe:
    """A readiness probe whose answer the test sets."""

    def __init__(self, reasons: list[str]) -> None:
        self.answer = reasons

    def reasons(self) -> list[str]:
        return self.answer


def test_healthz_answers_while_the_process_lives_whatever_readiness_says() -> None:
    client = TestClient(create_app(readiness=Probe(["database: away"]), registry=CollectorRegistry()))
    answer = client.get("/healthz")
    assert (answer.status_code, answer.json()) == (200, {"status": "alive"})


def test_readyz_is_200_when_ready_and_503_with_every_reason_when_not() -> None:
    probe = Probe([])
    client = TestClient(create_app(readiness=probe, registry=CollectorRegistry()))
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "reasons": []})

    probe.answer = ["database: away", "organization 7: no run of it has ended for 2 h 0 min"]
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json() == {"status": "not ready", "reasons": probe.answer}


def test_metrics_serve_the_given_registry_in_prometheus_text_and_nothing_of_the_global_one() -> None:
    registry = CollectorRegistry()
    Counter("spotilla_procountor_test_things", "Things.", registry=registry).inc(3)
    client = TestClient(create_app(readiness=Probe([]), registry=registry))

    answer = client.get("/metrics")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {s.name: s.value for f in text_string_to_metric_families(answer.text) for s in f.samples}
    assert samples["spotilla_procountor_test_things_total"] == 3
    assert not any(name.startswith(("python_", "process_")) for name in samples)  # the global registry's


def test_two_apps_keep_their_own_registries() -> None:
    first, second = CollectorRegistry(), CollectorRegistry()
    Counter("spotilla_procountor_only_in_first", "One.", registry=first).inc()
    text = TestClient(create_app(readiness=Probe([]), registry=second)).get("/metrics").text
    assert "only_in_first" not in text
