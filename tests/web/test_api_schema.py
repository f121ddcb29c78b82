"""A property-based run over `/openapi.json` (schemathesis): every operation the document lists, with data that fits
its schema and data that does not, as an operator and as organization 1's admin, over real HTTP. No answer may be a
5xx, and every answer must be one the document describes (status code, content type, headers, body schema).

schemathesis' pytest loader for a schema from a fixture does not run under pytest 9 (it reads a node attribute
pytest no longer has), so each operation's strategy is driven by Hypothesis here, inside one test per role and database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from apiworld import BACKENDS, HELD_TASK, ORGANIZATION, ApiWorld, api, database_url, served_api
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from spotilla_procountor.adapters.web.auth import Role

pytestmark = pytest.mark.loopback
__all__ = ["api"]  # fixture
JSON = {"Content-Type": "application/json"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
"""Not `negative_data_rejection`: it counts a query parameter or header the operation does not define as bad data
that must be refused, and the API (as FastAPI does) ignores those. Bad values of what it defines get a 422, which
the checks above hold to the document like every other answer."""
EXAMPLES = 8
"""Examples per operation, mode, role and database: each run takes well under half a minute."""
RUN = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests every run: a failure here is reproducible
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    """Organization 1 switched on through the API with a run behind it, organization 2 (its own API client) too;
    the scheduler serves Run now, so the random requests queue real runs against the fake Procountor."""
    with database_url(request.param, tmp_path_factory.mktemp("schema")) as url, served_api(url) as world:
        world.switch_on(1)
        world.start_scheduler()
        world.wait_for_runs(1, 1)
        yield world


@pytest.fixture(scope="module")
def api_schema(world: ApiWorld) -> schemathesis.BaseSchema:
    """The document the running app serves, with two hooks. Half the ids drawn are replaced by those of things
    that exist (an item or a run with its organization, or organization 1 or 2): random integers alone would
    almost only meet a 404. Switching on goes to the test environment only, which is the fake Procountor here;
    `production` would send random keys to the real Procountor."""
    schema = schemathesis.openapi.from_url(f"{world.url}/openapi.json")
    with world.operator() as client:
        runs = [{"organization_id": o, "run_id": r["id"]} for o in (1, 2) for r in client.get(at(o, "/runs")).json()]
        items = [
            {"organization_id": o, "kind": i["kind"], "spotilla_id": i["spotilla_id"]}
            for o in (1, 2)
            for i in client.get(at(o, "/items")).json()
        ]
    organizations = [{"organization_id": 1}, {"organization_id": 2}]
    existing = {"spotilla_id": items, "run_id": runs, "organization_id": organizations}

    @schema.hook
    def map_path_parameters(_context: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
        ids = dict(path_parameters or {})
        for name, choices in existing.items():  # the most particular id of the path decides
            value = ids.get(name)
            if value is not None:
                if choices and isinstance(value, int) and value % 2 == 0:
                    return {**ids, **choices[value // 2 % len(choices)]}
                return ids
        return ids

    @schema.hook
    def map_body(_context: Any, body: Any) -> Any:
        if isinstance(body, dict) and body.get("environment") == "production":
            body["environment"] = "test"
        return body

    return schema


def at(organization_id: int, rest: str) -> str:
    return f"/api/v1/organizations/{organization_id}{rest}"


@dataclass
class RandomRun:
    """What a random run over every operation met: each failure (the shrunk counterexample, as schemathesis
    reports it), and the status codes answered, per operation."""

    failures: dict[str, str] = field(default_factory=dict)
    answered: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def over(self, schema: schemathesis.BaseSchema, token: str) -> RandomRun:
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in sorted(operations, key=lambda op: op.method.upper() == "DELETE"):  # switching off last
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    self._one(operation.as_strategy(generation_mode=mode), token)()
                except Unsatisfiable:  # it takes nothing (no parameter, no body): there is no wrong input to send
                    continue
                except (Exception, FailureGroup) as exc:  # a check failed, or the request: noted, on with the others
                    self.failures[f"{operation.label} ({mode.value})"] = str(exc)
        return self

    def _one(self, strategy: Any, token: str) -> Callable[[], None]:
        @RUN
        @given(case=strategy)
        def run(case: schemathesis.Case) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            response = case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)
            self.answered[case.operation.label].add(response.status_code)

        return run

    def never_succeeded(self) -> list[str]:
        """The API's operations that never got as far as their use case (no 2xx): a run that proves little."""
        return sorted(op for op, codes in self.answered.items() if "/api/v1/" in op and not any(c < 300 for c in codes))

    def report(self) -> None:
        if self.failures:
            pytest.fail("\n\n".join(f"{name}: {report}" for name, report in self.failures.items()), pytrace=False)


def test_as_an_operator_no_answer_is_a_5xx_or_off_the_document(
    world: ApiWorld, api_schema: schemathesis.BaseSchema
) -> None:
    world.switch_both_on()
    run = RandomRun().over(api_schema, world.token(1, Role.OPERATOR, "operator@spotilla.fi"))
    run.report()
    assert run.never_succeeded() == []


def test_as_organization_1_s_admin_no_answer_is_a_5xx_or_off_the_document(
    world: ApiWorld, api_schema: schemathesis.BaseSchema
) -> None:
    world.switch_both_on()
    run = RandomRun().over(api_schema, world.token(1, Role.ADMIN))
    run.report()
    assert run.never_succeeded() == ["GET /api/v1/organizations"]  # operators only
    assert 403 in run.answered["GET /api/v1/organizations/{organization_id}/status"]  # organization 2 was asked


def test_the_random_run_goes_over_every_operation_of_the_api(api_schema: schemathesis.BaseSchema) -> None:
    operations = {op.ok().label for op in api_schema.get_all_operations()}
    assert {label for label in operations if " /api/v1/" in label} == {
        "GET /api/v1/organizations",
        "GET /api/v1/organizations/{organization_id}/integration",
        "PUT /api/v1/organizations/{organization_id}/integration",
        "DELETE /api/v1/organizations/{organization_id}/integration",
        "GET /api/v1/organizations/{organization_id}/status",
        "GET /api/v1/organizations/{organization_id}/items",
        "POST /api/v1/organizations/{organization_id}/items/{kind}/{spotilla_id}/retry",
        "POST /api/v1/organizations/{organization_id}/retry-failed",
        "POST /api/v1/organizations/{organization_id}/sync",
        "GET /api/v1/organizations/{organization_id}/runs",
        "GET /api/v1/organizations/{organization_id}/runs/{run_id}",
    }


# -- what the random run found, pinned ----------------------------------------------------------------------------


def documented(world: ApiWorld, method: str, path: str) -> set[int]:
    """The status codes the served document lists for the operation."""
    document = httpx.get(f"{world.url}/openapi.json", timeout=10).json()
    return {int(code) for code in document["paths"][path][method.lower()]["responses"]}


def test_every_refusal_found_by_the_random_run_is_in_the_document(api: ApiWorld) -> None:
    api.switch_on(1)
    api.container.sync_service().sync(1)  # a task held back: something to retry
    with api.operator() as operator, api.admin(1) as admin:
        given = [
            ("GET", f"{ORGANIZATION}/integration", operator.get("/api/v1/organizations/999/integration"), 404),
            ("PUT", f"{ORGANIZATION}/integration", operator.put("/api/v1/organizations/999/integration", json={}), 404),
            (
                "PUT",
                f"{ORGANIZATION}/integration",
                admin.put("/api/v1/organizations/1/integration", content=b"\xff\xfe{", headers=JSON),
                400,
            ),
        ]
        assert admin.delete("/api/v1/organizations/1/integration").status_code == 200
        given += [
            ("POST", f"{ORGANIZATION}/sync", admin.post("/api/v1/organizations/1/sync"), 409),
            ("POST", f"{ORGANIZATION}/retry-failed", admin.post("/api/v1/organizations/1/retry-failed"), 409),
            (
                "POST",
                f"{ORGANIZATION}/items/{{kind}}/{{spotilla_id}}/retry",
                admin.post(f"/api/v1/organizations/1/items/task/{HELD_TASK}/retry"),
                409,
            ),
        ]
    answered = [(method, path, answer.status_code) for method, path, answer, _status in given]
    assert answered == [(method, path, status) for method, path, _answer, status in given]
    assert [(m, p, s) for m, p, s in answered if s not in documented(api, m, p)] == []
