"""The JSON API as Spotilla calls it, over real HTTP: switching on with the key checked in Procountor, 422s that
name the field, Run now and its rate limit, the preview that writes nothing, retries, the run history, and no
secret in any answer."""

from __future__ import annotations

import httpx
import pytest
from apiworld import (
    API_KEY,
    API_KEY_2,
    CLIENT_ID,
    CLIENT_SECRET,
    GOOD_CUSTOMER,
    HELD_CUSTOMER,
    HELD_TASK,
    IBAN,
    INVOICED_TASK,
    JWT_SECRET,
    OWN_CLIENT_ID,
    OWN_CLIENT_SECRET,
    SWITCH_ON,
    ApiWorld,
    api,
    api_on_each_database,
    api_operations,
    concrete,
    give_business_id,
    secret_forms,
    unchanging_api,
    until,
)

from spotilla_procountor.adapters.procountor_fake.faults import FaultPlan

pytestmark = pytest.mark.loopback
__all__ = ["api", "api_on_each_database", "unchanging_api"]  # fixtures


def at(organization_id: int, rest: str = "") -> str:
    return f"/api/v1/organizations/{organization_id}{rest}"


def events_of(run: dict) -> set[tuple[str, str, int | None, str]]:
    return {(e["flow"], e["kind"], e["spotilla_id"], e["outcome"]) for e in run["events"]}


# -- switching on, and the whole story -----------------------------------------------------------------------------


def test_an_admin_switches_on_previews_runs_now_and_the_completed_task_is_invoiced(
    api_on_each_database: ApiWorld,
) -> None:
    world = api_on_each_database
    world.start_scheduler()  # as in `run`; organization 1 is not switched on yet, so nothing of it is scheduled
    with world.admin(1) as client:
        before = client.get(at(1, "/integration")).json()
        assert (before["configured"], before["enabled"], before["api_key_stored"]) == (False, False, False)
        assert before["integration_client_id"] == CLIENT_ID  # shown, to create the API key for

        answer = client.put(at(1, "/integration"), json=SWITCH_ON)
        assert answer.status_code == 200, answer.text
        view = answer.json()
        assert (view["enabled"], view["configured"], view["api_key_stored"]) == (True, True, True)
        assert (view["environment"], view["policy"], view["bank_account"]) == ("test", "ALL_COMPLETED", IBAN)
        assert (view["tasks_completed_from"], view["company"]["id"]) == ("2000-01-01", world.fake.company["id"])

        tables = world.tables()
        preview = client.post(at(1, "/sync"), params={"dry_run": "true"})
        assert preview.status_code == 200, preview.text
        would_create = {(e["kind"], e["spotilla_id"]) for e in preview.json()["would_create"]}
        assert {("task", INVOICED_TASK), ("customer", GOOD_CUSTOMER)} <= would_create
        assert ("task", HELD_TASK) not in would_create
        assert ("task", HELD_TASK) in {(e["kind"], e["spotilla_id"]) for e in preview.json()["held_back"]}
        assert world.tables() == tables  # nothing written: no run, no records
        assert (world.fake.invoices(), world.fake.partners(), world.fake.products()) == ([], [], [])

        asked = client.post(at(1, "/sync"))
        assert (asked.status_code, asked.json()["outcome"]) == (202, "queued")
        [run] = world.wait_for_runs(1, 1, timeout_s=30)  # well before the scheduler reads the tenant list again
        assert run["status"] == "SUCCEEDED"
        [invoice] = world.fake.invoices()
        detail = client.get(at(1, f"/runs/{run['id']}")).json()
        assert {("invoices", "task", INVOICED_TASK, "CREATED"), ("invoices", "task", HELD_TASK, "HELD_BACK")} <= (
            events_of(detail)
        )
        status = client.get(at(1, "/status")).json()
    assert invoice["partnerId"] in {p["id"] for p in world.fake.partners()}
    assert (status["counts"]["transferred_tasks"], status["last_runs"][0]["id"]) == (1, run["id"])


def test_without_a_scheduler_in_the_process_run_now_says_the_next_scheduled_run_does_it(api: ApiWorld) -> None:
    api.switch_on(1)
    with api.admin(1) as client:
        answer = client.post(at(1, "/sync"))
        assert (answer.status_code, answer.json()["outcome"]) == (202, "not_served")
        assert client.get(at(1, "/runs")).json() == []


def test_a_second_run_now_while_one_is_queued_gets_429(api: ApiWorld) -> None:
    api.switch_on(1)
    api.fake.set_faults(FaultPlan(latency_ms=300))  # the first run takes a few seconds
    api.start_scheduler()  # its first run of organization 1 starts at once
    with api.admin(1) as client:
        until(lambda: [r for r in client.get(at(1, "/runs")).json() if r["status"] == "RUNNING"], what="a run")
        queued = client.post(at(1, "/sync"))  # behind the run under way
        again = client.post(at(1, "/sync"))
        assert (queued.status_code, queued.json()["outcome"]) == (202, "queued")
        assert (again.status_code, again.json()["outcome"]) == (429, "already_queued")
        assert again.json()["message"] == "a run is already queued and starts shortly; wait for it to finish"
        assert client.get(at(1, "/status")).json()["run_queued"] is True
        api.fake.set_faults(FaultPlan())
        runs = api.wait_for_runs(1, 2)
        assert client.get(at(1, "/status")).json()["run_queued"] is False
    assert [r["status"] for r in runs] == ["SUCCEEDED", "SUCCEEDED"]  # the queued one ran; the refused one did not


def test_a_held_back_task_fixed_in_spotilla_and_retried_is_invoiced(api: ApiWorld) -> None:
    api.start_scheduler()
    api.switch_on(1)
    with api.admin(1) as client:
        client.post(at(1, "/sync"))
        api.wait_for_runs(1, 1)
        held = client.get(at(1, "/items"), params={"state": "held_back"}).json()
        task = next(i for i in held if (i["kind"], i["spotilla_id"]) == ("task", HELD_TASK))
        assert task["state"] == "held_back" and task["name"] == f"Huolto {HELD_TASK}" and task["since"]
        assert task["reasons"] and all(r["code"] and r["message"] for r in task["reasons"])

        give_business_id(api.container, HELD_CUSTOMER, "7654321-2")
        retried = client.post(at(1, f"/items/task/{HELD_TASK}/retry"))
        assert retried.status_code == 202, retried.text
        assert retried.json()["requeued"] >= 1 and retried.json()["run"]["outcome"] in ("queued", "already_queued")
        api.wait_for_runs(1, 2)
        still_held = client.get(at(1, "/items"), params={"state": "held_back"}).json()
    assert ("task", HELD_TASK) not in {(i["kind"], i["spotilla_id"]) for i in still_held}
    assert len(api.fake.invoices()) == 2


def test_retry_failed_requeues_what_waits_and_a_task_that_waits_for_nothing_is_404(api: ApiWorld) -> None:
    api.start_scheduler()
    api.switch_on(1)
    with api.admin(1) as client:
        client.post(at(1, "/sync"))
        api.wait_for_runs(1, 1)
        waiting = client.get(at(1, "/items"), params={"state": ["held_back", "failed"]}).json()
        everything = client.post(at(1, "/retry-failed"))
        invoiced = client.post(at(1, f"/items/task/{INVOICED_TASK}/retry"))
    assert (everything.status_code, everything.json()["requeued"]) == (202, len(waiting))
    assert invoiced.status_code == 404
    assert invoiced.json() == {
        "detail": f"task {INVOICED_TASK} of organization 1 is not held back or failed; nothing to try again"
    }


def test_a_retry_of_a_switched_off_organization_is_refused_before_it_changes_anything(api: ApiWorld) -> None:
    api.start_scheduler()
    api.switch_on(1)
    with api.admin(1) as client:
        client.post(at(1, "/sync"))
        api.wait_for_runs(1, 1)
        assert client.delete(at(1, "/integration")).status_code == 200
        before = api.tables()
        one = client.post(at(1, f"/items/task/{HELD_TASK}/retry"))
        every = client.post(at(1, "/retry-failed"))
        run_now = client.post(at(1, "/sync"))
    assert [a.status_code for a in (one, every, run_now)] == [409, 409, 409]
    assert one.json() == {"detail": "the integration is switched off; switch it on to run it"}
    assert api.tables() == before  # the refused retries forgot nothing


def test_the_key_help_names_the_api_client_the_organization_s_key_belongs_to(api: ApiWorld) -> None:
    with api.operator() as client:
        own = client.put(at(2, "/integration"), json={"api_key": "not-the-key"})
        service = client.put(at(1, "/integration"), json={**SWITCH_ON, "api_key": "not-the-key"})
    assert own.status_code == service.status_code == 422
    assert f"for the integration's API client {OWN_CLIENT_ID};" in own.json()["detail"][0]["msg"]
    assert f"for the integration's API client {CLIENT_ID};" in service.json()["detail"][0]["msg"]


# JSON escapes, as sent: a lone surrogate is valid JSON but no text; a NUL and a newline are no part of a key
@pytest.mark.parametrize(
    "key", [r"K\ud800", r"key\u0000with-a-nul", r"two\nlines"], ids=["surrogate", "nul", "newline"]
)
def test_an_api_key_with_characters_no_key_has_is_a_field_error_not_a_500(unchanging_api: ApiWorld, key: str) -> None:
    body = f'{{"api_key": "{key}", "bank_account": "{IBAN}"}}'
    with unchanging_api.admin(1) as client:
        answer = client.put(at(1, "/integration"), content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "api_key"] and "holds characters no key has" in problem["msg"]


def test_another_organization_s_run_is_404_here_even_for_an_operator(api: ApiWorld) -> None:
    api.switch_on(1)
    with api.operator() as operator, api.admin(1) as admin:
        [theirs] = operator.get(at(2, "/runs")).json()
        assert operator.get(at(2, f"/runs/{theirs['id']}")).json()["events"]  # it is there, with its events
        answers = [client.get(at(1, f"/runs/{theirs['id']}")) for client in (operator, admin)]
    for answer in answers:
        assert (answer.status_code, answer.json()) == (404, {"detail": f"organization 1 has no run {theirs['id']}"})


def test_an_id_no_organization_run_or_item_can_have_is_refused_not_a_database_error(
    api_on_each_database: ApiWorld,
) -> None:
    """Found by the random run on PostgreSQL: 2**31 as an organization was 'integer out of range' there (503), and
    2**63 an OverflowError of SQLite's driver (500)."""
    asked = [("GET", at(2**31, "/integration")), ("GET", at(2**63, "/status")), ("GET", at(2, f"/runs/{2**63}"))]
    asked.append(("POST", at(2, f"/items/task/{2**63}/retry")))
    answers = []
    for method, path in asked:
        with api_on_each_database.operator() as client:  # a connection each: after a 500 the server closes its own
            answers.append(client.request(method, path))
    refused = [a.status_code in (404, 422) for a in answers]  # no such thing, or no such id
    assert refused == [True] * len(answers), [f"{a.status_code} {a.text}" for a in answers]


# -- 422: what is wrong, field by field ---------------------------------------------------------------------------


REFUSED_CHANGES = {
    "bad IBAN": ({**SWITCH_ON, "bank_account": "FI00 1234 5678"}, "bank_account", "not a valid IBAN"),
    "no IBAN": ({**SWITCH_ON, "bank_account": None}, "bank_account", "bank account (IBAN) is required"),
    "unknown environment": ({**SWITCH_ON, "environment": "staging"}, "environment", "'test' or 'production'"),
    "unknown policy": ({**SWITCH_ON, "policy": "EVERYTHING"}, "policy", "ALL_COMPLETED"),
    "bad date": ({**SWITCH_ON, "tasks_completed_from": "2024-13-45"}, "tasks_completed_from", "month"),
    "refused key": (
        {**SWITCH_ON, "api_key": "not-the-organization-s-key"},
        "api_key",
        f"Basics → API client keys → New API key, for the integration's API client {CLIENT_ID}",
    ),
    "no key": ({k: v for k, v in SWITCH_ON.items() if k != "api_key"}, "api_key", "API key is required"),
}


@pytest.mark.parametrize("case", REFUSED_CHANGES)
def test_a_wrong_switch_on_gets_422_naming_the_field_and_stores_nothing(unchanging_api: ApiWorld, case: str) -> None:
    body, field_name, words = REFUSED_CHANGES[case]
    with unchanging_api.admin(1) as client:
        answer = client.put(at(1, "/integration"), json=body)
        after = client.get(at(1, "/integration")).json()
    assert answer.status_code == 422, answer.text
    problems = answer.json()["detail"]
    assert [p["loc"][-1] for p in problems] == [field_name]
    [problem] = problems
    assert problem["loc"][0] == "body" and words in problem["msg"] and problem["type"]
    assert after["configured"] is False and unchanging_api.container.state().settings_row(1) is None
    for form in secret_forms(API_KEY, str(body.get("api_key"))):
        assert form not in answer.text


def test_a_422_never_echoes_an_api_key_sent_in_the_wrong_shape(unchanging_api: ApiWorld) -> None:
    with unchanging_api.admin(1) as client:
        answer = client.put(at(1, "/integration"), json={**SWITCH_ON, "api_key": [API_KEY]})
    assert answer.status_code == 422
    assert API_KEY not in answer.text


def test_a_change_without_an_api_key_keeps_the_stored_one(api: ApiWorld) -> None:
    api.switch_on(1)
    asked = len(api.fake.request_log)
    with api.admin(1) as client:
        answer = client.put(at(1, "/integration"), json={"policy": "WITH_ORDER_NUMBER"})
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert (view["policy"], view["api_key_stored"], view["bank_account"], view["environment"]) == (
        "WITH_ORDER_NUMBER",
        True,
        IBAN,
        "test",
    )
    stored = api.container.state().settings_row(1)
    assert stored is not None and api.container.tenants().credentials(stored).api_key == API_KEY
    assert len(api.fake.request_log) > asked  # the stored key was checked with Procountor again


# -- no secret in any answer ---------------------------------------------------------------------------------------


def answers_to_every_get(world: ApiWorld, client: httpx.Client, organization_id: int) -> list[httpx.Response]:
    """Every GET of the OpenAPI document for the organization, with its real run ids and every item state."""
    runs = client.get(at(organization_id, "/runs")).json()
    answers = []
    for method, path in api_operations(world):
        if method != "GET":
            continue
        for run in runs or [{"id": 1}]:
            answers.append(client.get(concrete(path, organization_id=organization_id, run_id=run["id"])))
    answers += [client.get(at(organization_id, "/items"), params={"state": s}) for s in ("held_back", "failed")]
    return answers


def test_no_answer_holds_an_api_key_a_client_secret_the_shared_secrets_or_the_token(api: ApiWorld) -> None:
    api.start_scheduler()
    with api.operator() as operator, api.admin(1) as admin:
        answers = [admin.put(at(1, "/integration"), json=SWITCH_ON), admin.post(at(1, "/sync"))]
        api.wait_for_runs(1, 1)
        for organization_id in (1, 2):  # 2 has an API client of its own, its secret stored too
            answers += answers_to_every_get(api, operator, organization_id)
        answers += answers_to_every_get(api, admin, 1)
        answers += [operator.get("/openapi.json"), admin.put(at(1, "/integration"), json={"api_key": "wrong-key"})]
        tokens = [c.headers["Authorization"].removeprefix("Bearer ") for c in (operator, admin)]
    secret_key = api.container.settings().secret_key
    assert secret_key is not None
    secrets = [API_KEY, API_KEY_2, CLIENT_SECRET, OWN_CLIENT_SECRET, JWT_SECRET, secret_key.get_secret_value(), *tokens]
    assert len(answers) > 20 and all(a.status_code < 500 for a in answers)
    for answer in answers:
        seen = answer.text + repr(answer.headers.multi_items())
        leaked = [s for s in secret_forms(*secrets) if s in seen]
        assert leaked == [], f"{answer.request.method} {answer.request.url.path} holds a secret"
