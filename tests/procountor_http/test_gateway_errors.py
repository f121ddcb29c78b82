"""Every status and network failure becomes the domain error that tells the caller what to do.

The server here is a scripted httpx.MockTransport, for answers the fake Procountor does not produce.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from procountor_http_support import (
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    ScriptedProcountor,
    Sleeps,
    invoice_draft,
    new_product,
    page,
)

from spotilla_procountor.adapters.procountor_http import HttpProcountorGateway, RateLimiter, RetryPolicy
from spotilla_procountor.domain.deadline import send_within
from spotilla_procountor.domain.errors import (
    AccessDenied,
    AuthenticationFailed,
    NotFound,
    NotSent,
    OutcomeUnknown,
    ProcountorError,
    ProcountorRejected,
    TemporarilyUnavailable,
)

NOW = datetime(2025, 1, 31, 8, 0, tzinfo=UTC)
PRODUCT = {"id": 7, "name": "Työ", "code": "T", "unit": "HOUR", "price": 10, "vat": 25.5}
INVOICE = {"id": 9, "status": "UNFINISHED", "originalInvoiceNumber": "SPOT-7-1001", "partnerId": 1}


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def connect(sleeps):
    made = []

    def _connect(server: ScriptedProcountor, **overrides) -> HttpProcountorGateway:
        settings = {
            "base_url": "https://pts-api.procountor.com",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "api_key": API_KEY,
            "transport": server.transport(),
            "rate_limiter": RateLimiter(100_000),
            "sleep": sleeps,
            "clock": lambda: NOW,
            **overrides,
        }
        made.append(HttpProcountorGateway(**settings))
        return made[-1]

    yield _connect
    for gateway in made:
        gateway.close()


def _error(status: int, field: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"status": status, "field": field, "message": message}]})


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (_error(400, "invoiceRows[0].unit", "Value 'HOURS' is not allowed"), ProcountorRejected),
        (httpx.Response(403, json={"errors": [{"status": 403, "message": "FORBIDDEN"}]}), AccessDenied),
        (httpx.Response(404, text="Not Found"), NotFound),
        (httpx.Response(409, json={"errors": [{"status": 409, "message": "CONFLICT"}]}), ProcountorRejected),
        (httpx.Response(429), TemporarilyUnavailable),
        (httpx.Response(500, text="Internal Server Error"), TemporarilyUnavailable),
        (httpx.Response(502), TemporarilyUnavailable),
        (httpx.Response(503), TemporarilyUnavailable),
        (httpx.Response(200, text="<html>not json"), TemporarilyUnavailable),
        (httpx.ConnectError("refused"), TemporarilyUnavailable),
        (httpx.ConnectTimeout("slow connect"), TemporarilyUnavailable),
        (httpx.ReadTimeout("slow answer"), TemporarilyUnavailable),
        (httpx.RemoteProtocolError("dropped"), TemporarilyUnavailable),
    ],
    ids=lambda v: getattr(v, "status_code", None) or type(v).__name__,
)
def test_a_read_answer_is_classified_once(connect, answer, expected):
    gateway = connect(ScriptedProcountor(answer))

    with pytest.raises(expected) as caught:
        list(gateway.list_products())

    assert type(caught.value) is expected


def test_a_rejection_carries_procountors_field_and_message(connect):
    gateway = connect(ScriptedProcountor(_error(400, "invoiceRows[0].unit", "Value 'HOURS' is not allowed")))

    with pytest.raises(ProcountorRejected) as caught:
        gateway.create_invoice(invoice_draft(1))

    assert caught.value.errors == [("invoiceRows[0].unit", "Value 'HOURS' is not allowed")]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"constraintViolations": [{"field": "name", "errorCode": "TOO_LONG"}]}, [("name", "TOO_LONG")]),
        ({"error": "invalid_request", "error_description": "bad"}, [(None, "invalid_request: bad")]),
        ("plain words", [(None, "plain words")]),
        ({"errors": [{"status": 400, "message": "DUE_DATE_BEFORE_BILL_DATE"}]}, [(None, "DUE_DATE_BEFORE_BILL_DATE")]),
    ],
)
def test_other_rejection_shapes_are_understood(connect, body, errors):
    answer = httpx.Response(400, text=body) if isinstance(body, str) else httpx.Response(400, json=body)
    gateway = connect(ScriptedProcountor(answer))

    with pytest.raises(ProcountorRejected) as caught:
        list(gateway.list_products())

    assert caught.value.errors == errors


def test_reads_are_retried_five_times_with_capped_full_jitter(connect, sleeps):
    server = ScriptedProcountor(httpx.Response(503))
    gateway = connect(server, retry=RetryPolicy(max_attempts=5, base=0.5, cap=1.5))

    with pytest.raises(TemporarilyUnavailable):
        list(gateway.list_products())

    assert len(server.api_requests()) == 5
    assert len(sleeps) == 4
    assert all(0 <= wait <= limit for wait, limit in zip(sleeps, (0.5, 1.0, 1.5, 1.5), strict=True))


def test_a_read_recovers_after_transient_failures(connect):
    server = ScriptedProcountor(httpx.ReadTimeout("slow"), httpx.Response(502), page([PRODUCT]))
    gateway = connect(server)

    assert [p.id for p in gateway.list_products()] == [7]


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(500), httpx.Response(503), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped")],
    ids=lambda v: getattr(v, "status_code", None) or type(v).__name__,
)
def test_a_create_whose_answer_is_lost_is_never_sent_twice(connect, answer):
    server = ScriptedProcountor(answer, httpx.Response(200, json=INVOICE))
    gateway = connect(server)

    with pytest.raises(OutcomeUnknown):
        gateway.create_invoice(invoice_draft(1))

    assert len(server.api_requests()) == 1


def test_a_create_with_an_unreadable_success_answer_is_outcome_unknown(connect):
    gateway = connect(ScriptedProcountor(httpx.Response(200, text="{truncated")))

    with pytest.raises(OutcomeUnknown):
        gateway.create_product(new_product(1))


@pytest.mark.parametrize("answer", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.Response(429)])
def test_a_create_that_certainly_did_not_arrive_is_sent_again(connect, answer):
    server = ScriptedProcountor(answer, httpx.Response(200, json=INVOICE))
    gateway = connect(server)

    assert gateway.create_invoice(invoice_draft(1)).id == 9
    assert [r.method for r in server.api_requests()] == ["POST", "POST"]


def test_a_create_whose_sending_deadline_passed_is_not_sent_at_all(connect):
    """A create claimed by a run may be sent only within its deadline (see domain/deadline.py)."""
    server = ScriptedProcountor(httpx.Response(200, json=INVOICE))
    gateway = connect(server)

    with send_within(-1), pytest.raises(NotSent):
        gateway.create_invoice(invoice_draft(1))
    assert server.api_requests() == []

    with send_within(60):
        assert gateway.create_invoice(invoice_draft(1)).id == 9
    assert [r.method for r in server.api_requests()] == ["POST"]


def test_a_create_throttled_past_its_deadline_is_not_sent_again(connect):
    server = ScriptedProcountor(httpx.Response(429), httpx.Response(200, json=INVOICE))
    gateway = connect(server, sleep=lambda _s: time.sleep(0.05))

    with send_within(0.01), pytest.raises(NotSent):
        gateway.create_invoice(invoice_draft(1))
    assert [r.method for r in server.api_requests()] == ["POST"]  # the 429'd one; the retry was never sent


def test_retry_after_in_seconds_is_the_least_wait(connect, sleeps):
    server = ScriptedProcountor(httpx.Response(429, headers={"Retry-After": "12"}), page([]))
    connect(server).find_invoices_by_key("SPOT-1")

    assert sleeps == [12.0]


def test_retry_after_as_an_http_date_is_the_least_wait(connect, sleeps):
    later = format_datetime(NOW + timedelta(seconds=20), usegmt=True)
    server = ScriptedProcountor(httpx.Response(503, headers={"Retry-After": later}), page([]))
    connect(server).find_invoices_by_key("SPOT-1")

    assert sleeps == [20.0]


def test_a_retry_after_longer_than_the_policy_allows_gives_up_at_once(connect, sleeps):
    server = ScriptedProcountor(httpx.Response(429, headers={"Retry-After": "3600"}), page([]))

    with pytest.raises(TemporarilyUnavailable):
        connect(server).find_invoices_by_key("SPOT-1")

    assert sleeps == []


def test_a_401_that_outlasts_three_token_renewals_is_authentication_failed(connect):
    server = ScriptedProcountor(httpx.Response(401))

    with pytest.raises(AuthenticationFailed):
        list(connect(server).list_products())

    assert server.tokens_issued == 4  # the first token and three renewals, each carried by the next try
    assert [r.headers["Authorization"] for r in server.api_requests()] == [f"Bearer tok-{n}" for n in range(1, 5)]


@pytest.mark.parametrize("status", [400, 401])
def test_refused_credentials_are_authentication_failed_without_secrets(connect, status):
    server = ScriptedProcountor(page([]), token_status=status)

    with pytest.raises(AuthenticationFailed) as caught:
        connect(server).vat_percentages()

    assert str(caught.value) == "Procountor refused the client id, client secret or API key"
    assert server.api_requests() == []


def test_a_failing_token_endpoint_is_temporary(connect):
    server = ScriptedProcountor(page([]), token_status=503)

    with pytest.raises(TemporarilyUnavailable):
        connect(server).vat_percentages()


def test_paging_stops_at_the_total_count_without_an_empty_page(connect):
    rows = [{"id": i, "name": f"P{i}", "type": "CUSTOMER"} for i in range(200)]
    server = ScriptedProcountor(page(rows, total=200), page([]))

    assert len(list(connect(server).list_partners())) == 200
    assert len(server.api_requests()) == 1


def test_paging_without_meta_reads_until_a_short_page(connect):
    full = [{"id": i, "name": f"P{i}", "type": "CUSTOMER"} for i in range(200)]
    short = [{"id": 1000, "name": "P", "type": "CUSTOMER"}]
    server = ScriptedProcountor(
        httpx.Response(200, json={"results": full}), httpx.Response(200, json={"results": short})
    )

    assert len(list(connect(server).list_partners())) == 201
    assert [r.url.params["page"] for r in server.api_requests()] == ["0", "1"]


def test_product_paging_stops_when_the_server_ignores_previous_id(connect):
    rows = [{**PRODUCT, "id": i} for i in range(200)]
    server = ScriptedProcountor(page(rows))

    assert len(list(connect(server).list_products())) == 200
    assert [r.url.params.get("previousId") for r in server.api_requests()] == [None, "199"]


def test_a_single_partner_answer_may_be_an_object(connect):
    server = ScriptedProcountor(httpx.Response(200, json={"id": 5, "name": "A", "type": "CUSTOMER"}))

    [partner] = connect(server).get_partners([5])

    assert partner.id == 5
    assert partner.complete


def test_full_partners_read_payment_terms_as_string_or_number(connect):
    server = ScriptedProcountor(
        httpx.Response(
            200,
            json=[
                {"id": 1, "name": "A", "type": "CUSTOMER", "paymentInfo": {"paymentTermDays": "14"}},
                {"id": 2, "name": "B", "type": "CUSTOMER", "paymentInfo": {"paymentTermDays": 30}},
                {"id": 3, "name": "C", "type": "CUSTOMER", "paymentInfo": None, "invoicingInfo": None},
            ],
        )
    )

    assert [p.payment_term_days for p in connect(server).get_partners([1, 2, 3])] == [14, 30, None]


def test_nothing_raw_escapes_a_garbled_row(connect):
    server = ScriptedProcountor(page([{"name": "no id"}]))

    with pytest.raises(ProcountorError):
        list(connect(server).list_partners())


def test_verify_credentials_accepts_good_and_refuses_wrong_credentials_without_showing_them() -> None:
    from spotilla_procountor.adapters.procountor_fake import FakeProcountor
    from spotilla_procountor.adapters.procountor_http import HttpProcountorGateway
    from spotilla_procountor.domain.errors import AuthenticationFailed

    fake = FakeProcountor()

    def gateway(secret: str) -> HttpProcountorGateway:
        return HttpProcountorGateway(
            base_url="http://fake.invalid",
            client_id="demo-client",
            client_secret=secret,
            api_key="demo-api-key",
            transport=fake.transport(),
            sleep=lambda _s: None,
        )

    with gateway("demo-secret") as good:
        good.verify_credentials()
    with gateway("wrong-secret-123") as bad, pytest.raises(AuthenticationFailed) as refused:
        bad.verify_credentials()
    assert "wrong-secret-123" not in str(refused.value)
    assert [route for route in fake.route_counts] == ["POST /oauth/token"]


@pytest.mark.parametrize("date", [None, "", "yesterday", "Fri, 31 Jan 2025 08:00:00 -0000"])
def test_without_a_usable_date_header_procountors_time_stays_unknown(connect, date):
    headers = {"Date": date} if date is not None else {}
    gateway = connect(ScriptedProcountor(httpx.Response(200, json={"results": [], "meta": {}}, headers=headers)))

    assert gateway.procountor_now() is None  # the token answer had no Date either
    assert list(gateway.list_products()) == []
    assert gateway.procountor_now() is None


def test_a_later_date_header_replaces_an_earlier_reading(connect):
    answers = [page([]), page([])]
    answers[0].headers["Date"] = "Fri, 31 Jan 2025 08:00:00 GMT"
    answers[1].headers["Date"] = "Fri, 31 Jan 2025 07:00:00 GMT"  # Procountor's clock was stepped back
    gateway = connect(ScriptedProcountor(*answers))

    list(gateway.list_products())
    first = gateway.procountor_now()
    list(gateway.list_products())

    assert first is not None and gateway.procountor_now() is not None
    assert first - gateway.procountor_now() > timedelta(minutes=59)


def test_a_step_of_our_wall_clock_does_not_move_procountors_time(connect):
    answer = page([])
    answer.headers["Date"] = "Fri, 31 Jan 2025 08:00:00 GMT"
    wall = [NOW]
    elapsed = [100.0]
    gateway = connect(ScriptedProcountor(answer), clock=lambda: wall[0], monotonic=lambda: elapsed[0])
    list(gateway.list_products())

    wall[0] += timedelta(hours=1)  # NTP stepped our clock
    elapsed[0] += 2.5  # while 2.5 s really passed

    assert gateway.procountor_now() == datetime(2025, 1, 31, 8, 0, 2, 500_000, tzinfo=UTC)
