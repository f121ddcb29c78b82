"""The reasons an item waits, in Finnish: every reason has a sentence made of the same facts as the domain's English
one, the domain's own words among those facts said in Finnish, and an item's page in Finnish shows it."""

from __future__ import annotations

import html
import re
import string
from datetime import date
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text
from test_pages import switch_on
from web_world import ORG, Stack

from spotilla_procountor.adapters.web.i18n import Texts, reason_catalogue, reason_sentences
from spotilla_procountor.domain.model import TaskStatus
from spotilla_procountor.domain.reasons import _SENTENCES, Reason, ReasonCode
from spotilla_procountor.domain.state import EntityKind

FINNISH = reason_catalogue("fi")
PROCOUNTOR_SAYS = "partner.businessId: Business ID is already in use"  # a ProcountorRejected as the domain words it
LOST = "POST /invoices was sent but its answer was lost (ReadTimeout)"  # an OutcomeUnknown as the transport words it

# Each reason with facts as the domain gives them (see where src/domain/*.py makes each code), in every shape a fact
# takes there: the domain's own words (a status, what a thing is), names, numbers, Procountor's messages.
FACTS: dict[ReasonCode, list[dict[str, object]]] = {
    ReasonCode.TASK_NOT_COMPLETED: [{"status": s} for s in TaskStatus if s != TaskStatus.COMPLETED]
    + [{"status": "reopened, cancelled or deleted"}],
    ReasonCode.ALREADY_TRANSFERRED: [{"invoice_id": 4711}],
    ReasonCode.NO_CUSTOMER: [{}],
    ReasonCode.CUSTOMER_NOT_FOUND: [{"customer_id": 42}],
    ReasonCode.CUSTOMER_NAME_MISSING: [{"customer_id": 42}],
    ReasonCode.BUSINESS_ID_MISSING: [{}],
    ReasonCode.BUSINESS_ID_MALFORMED: [{"value": "1234567"}, {"value": "empty"}],
    ReasonCode.BUSINESS_ID_CHECK_DIGIT: [{"value": "1234567-1"}],
    ReasonCode.NO_ORDER_NUMBER: [{}],
    ReasonCode.NO_PRODUCTS: [{}],
    ReasonCode.QUANTITY_NOT_POSITIVE: [
        {"product": "Asennustyö", "quantity": Decimal("0.000")},
        {"product": "Kaapeli", "quantity": Decimal("-2")},
    ],
    ReasonCode.PRODUCT_NOT_FOUND: [{"product_id": 17}],
    ReasonCode.PRODUCT_NOT_CREATABLE: [
        {"product": "Kaapeli", "detail": "its unit 'rulla' has no Procountor equivalent; use h, pcs, km, m, kg or l."},
        {"product": "Kaapeli", "detail": "refused earlier"},
        {"product": "Kaapeli", "detail": PROCOUNTOR_SAYS},
    ],
    ReasonCode.CUSTOMER_NOT_IN_PROCOUNTOR: [
        {"detail": "it is not linked yet"},
        {"detail": f"Procountor refused it: {PROCOUNTOR_SAYS}"},
        {"detail": f"no answer from Procountor ({LOST}); it is looked up next run"},
    ],
    ReasonCode.DUPLICATE_CUSTOMER: [{"customer_id": 42, "other_id": 7}],
    ReasonCode.NO_ANSWER: [{"what": "The invoice", "detail": LOST}, {"what": "Product Kaapeli", "detail": LOST}],
    ReasonCode.FIELD_INVALID: [
        {"what": "Country", "detail": "'XX' is not a country code Procountor knows here; use e.g. FI or SE."}
    ],
    ReasonCode.REJECTED_BY_PROCOUNTOR: [{"detail": PROCOUNTOR_SAYS}],
    ReasonCode.DELETED_IN_SPOTILLA: [
        {"what": "Customer 42", "procountor_id": 9001},
        {"what": "Product 17", "procountor_id": "—"},
    ],
    ReasonCode.ALREADY_PAIRED: [{"what": k.lower(), "procountor_id": 9001} for k in EntityKind]
    + [{"what": "product", "procountor_id": "(new)"}],
    ReasonCode.GONE_IN_PROCOUNTOR: [{"what": w, "procountor_id": 9001} for w in ("partner", "product")]
    + [{"what": k.lower(), "procountor_id": 9001} for k in EntityKind],
    ReasonCode.NOT_SENT: [{"detail": "POST /invoices waited past its deadline for its turn"}],
    ReasonCode.INTERNAL_ERROR: [{"error": "ZeroDivisionError"}, {"error": "unexpected error while sending"}],
    ReasonCode.QUANTITY_INVALID: [{"product": "Kaapeli", "value": "empty"}, {"product": "Kaapeli", "value": "'kolme'"}],
    ReasonCode.PRICE_INVALID: [{"product": "Kaapeli", "value": "empty"}, {"product": "Kaapeli", "value": "NaN"}],
    ReasonCode.VALUE_UNREADABLE: [
        {"field": "payment term", "what": "customer Rakennus Virtanen Oy", "value": "'14 pv'"},
        {"field": "completion time", "what": "the task", "value": "'eilen'"},
        {"field": "VAT percent", "what": "product Kaapeli", "value": "empty"},
    ],
    ReasonCode.COMPLETION_TIME_MISSING: [{}],
    ReasonCode.COMPLETION_TIME_IN_FUTURE: [{"completed_at": "2031-05-04 12:30"}],
    ReasonCode.QUANTITY_ABOVE_CEILING: [
        {"product": "Kaapeli", "quantity": Decimal("250000.000"), "ceiling": Decimal("100000")}
    ],
    ReasonCode.TOTAL_ABOVE_CEILING: [{"total": Decimal("125000.00"), "ceiling": Decimal("100000.00")}],
    ReasonCode.CLAIMED_BY_EARLIER_RUN: [{"seconds": 40}],
    ReasonCode.NO_BANK_ACCOUNT: [{}],
    ReasonCode.COMPLETED_BEFORE_START: [{"completed_on": date(2024, 12, 31), "start": date(2025, 1, 1)}],
}
DOMAIN_WORDS = ("status", "what", "field")
"""Facts that only ever hold the domain's own English words, never a name or a value from Spotilla or Procountor."""

SAMPLES = [
    pytest.param(Reason.of(code, **facts), id=f"{code}-{n}")
    for code, all_facts in FACTS.items()
    for n, facts in enumerate(all_facts)
]


def _fields(template: str) -> dict[str, tuple[str | None, str]]:
    """Placeholder → (its conversion, its format spec)."""
    return {name: (conversion, spec) for _, name, spec, conversion in string.Formatter().parse(template) if name}


def test_every_reason_has_a_finnish_sentence_and_nothing_else_has_one() -> None:
    assert sorted(FINNISH["sentences"]) == sorted(str(code) for code in ReasonCode)
    assert all(sentence.strip() for sentence in FINNISH["sentences"].values())


@pytest.mark.parametrize("code", list(ReasonCode))
def test_a_finnish_sentence_uses_only_facts_the_english_one_has_and_shows_them_the_same_way(code: ReasonCode) -> None:
    english, finnish = _fields(_SENTENCES[code]), _fields(FINNISH["sentences"][code])
    assert sorted(finnish.keys() - english.keys()) == []
    assert {name: english[name] for name in finnish} == finnish  # {value!r} stays quoted as in English


def test_every_finnish_word_is_for_a_fact_the_finnish_sentence_shows() -> None:
    for code, facts in FINNISH["words"].items():
        shown = _fields(FINNISH["sentences"][code])
        assert sorted(facts.keys() - shown.keys()) == [], code


def test_every_reason_has_realistic_facts_here() -> None:
    assert sorted(FACTS) == sorted(ReasonCode)


@pytest.mark.parametrize("reason", SAMPLES)
def test_every_sentence_is_made_of_the_facts_the_domain_gives_in_both_languages(reason: Reason) -> None:
    english = reason.message
    finnish = Texts("fi").reason(reason.code, english, reason.sentence_facts)

    assert not english.startswith(f"{reason.code}:"), "the English sentence lacks a fact; fix FACTS here"
    assert finnish != english
    assert Texts("en").reason(reason.code, english, reason.sentence_facts) == english
    for sentence in (english, finnish):
        assert "{" not in sentence and "}" not in sentence
    shown = _fields(FINNISH["sentences"][reason.code])
    words = FINNISH["words"].get(reason.code, {})
    for name, value in reason.facts.items():
        if name in shown and name not in words:
            assert value in finnish, f"{name}={value!r} is not in {finnish!r}"
        if name in DOMAIN_WORDS and name in shown:
            assert value not in finnish, f"{name}={value!r} is left in English in {finnish!r}"


@pytest.mark.parametrize(
    ("reason", "finnish"),
    [
        (
            Reason.of(ReasonCode.TASK_NOT_COMPLETED, status=TaskStatus.IN_PROGRESS),
            "Työtilaus on kesken eikä valmis; se laskutetaan, kun se on merkitty valmiiksi.",
        ),
        (
            Reason.of(ReasonCode.QUANTITY_NOT_POSITIVE, product="Asennustyö", quantity=Decimal("0.000")),
            "Työtilauksen tuotteen Asennustyö määrä on 0.000; määrän on oltava suurempi kuin nolla.",
        ),
        (
            Reason.of(ReasonCode.BUSINESS_ID_MALFORMED, value="empty"),  # typed into Spotilla: shown as it is
            "Asiakkaan Y-tunnus 'empty' ei ole muotoa 1234567-8; korjaa se Spotillassa.",
        ),
        (
            Reason.of(ReasonCode.VALUE_UNREADABLE, field="VAT percent", what="product Kaapeli", value="empty"),
            "ALV-prosentti (tuote Kaapeli) on tyhjä, eikä sitä voi käyttää; korjaa se Spotillassa.",
        ),
        (
            Reason.of(ReasonCode.CUSTOMER_NOT_IN_PROCOUNTOR, detail=f"Procountor refused it: {PROCOUNTOR_SAYS}"),
            f"Asiakasta ei voitu luoda Procountoriin liikekumppaniksi (Procountor hylkäsi sen: {PROCOUNTOR_SAYS}); "
            "työtilaus odottaa, kunnes se onnistuu.",
        ),
        (
            Reason.of(ReasonCode.GONE_IN_PROCOUNTOR, what="partner", procountor_id=9001),
            "Procountorista on poistunut liikekumppani 9001, johon tämä oli linkitetty; seuraava ajo löytää sen tai "
            "luo sen (vain kerran) ja lähettää uudelleen laskut, jotka hylättiin sen puuttuessa.",
        ),
        (
            Reason.of(ReasonCode.COMPLETED_BEFORE_START, completed_on=date(2024, 12, 31), start=date(2025, 1, 1)),
            "Työtilaus valmistui 2024-12-31, ennen siirron aloituspäivää 2025-01-01; sitä ei laskuteta integraation "
            "kautta.",
        ),
    ],
    ids=lambda value: str(value.code) if isinstance(value, Reason) else "",
)
def test_the_domains_own_words_are_said_in_finnish_and_spotillas_data_as_it_is(reason: Reason, finnish: str) -> None:
    assert Texts("fi").reason(reason.code, reason.message, reason.sentence_facts) == finnish


def test_without_a_fact_its_sentence_needs_the_reason_stays_as_the_domain_wrote_it() -> None:
    reason = Reason.of(ReasonCode.QUANTITY_NOT_POSITIVE, product="Kaapeli", quantity=0)
    assert Texts("fi").reason(reason.code, reason.message, {"product": "Kaapeli"}) == reason.message
    newer = Texts("fi").reason("WRITTEN_BY_A_NEWER_VERSION", "Something new.", {"product": "Kaapeli"})
    assert newer == "Something new."


def test_a_reason_without_its_facts_is_in_finnish_only_when_it_is_the_sentence_that_has_none() -> None:
    english, finnish = (
        Reason.of(ReasonCode.BUSINESS_ID_MISSING).message,
        "Asiakkaalla ei ole Y-tunnusta; lisää se Spotillassa.",
    )
    assert Texts("fi").reason("BUSINESS_ID_MISSING", english) == finnish
    assert Texts("fi").reason("BUSINESS_ID_MISSING", english, {}) == finnish  # an item's reason without facts
    assert Texts("en").reason("BUSINESS_ID_MISSING", english) == english
    stored_long_ago = "The customer has no Y-tunnus."  # a sentence stored by an earlier version stays as it was
    assert Texts("fi").reason("BUSINESS_ID_MISSING", stored_long_ago) == stored_long_ago
    with_facts = Reason.of(ReasonCode.CUSTOMER_NOT_FOUND, customer_id=7).message  # a run's event: only the sentence
    assert Texts("fi").reason("CUSTOMER_NOT_FOUND", with_facts) == with_facts


def test_the_script_gets_the_sentences_that_have_no_facts_to_match_a_preview_against() -> None:
    without_facts = sorted(str(code) for code, sentence in _SENTENCES.items() if not _fields(sentence))
    assert sorted(reason_sentences("fi")) == without_facts
    assert reason_sentences("fi")["NO_BANK_ACCOUNT"] == (
        Reason.of(ReasonCode.NO_BANK_ACCOUNT).message,
        "Lisää organisaation pankkitili (IBAN) integraation asetuksiin.",
    )
    assert reason_sentences("en") == {}


@pytest.mark.loopback
def test_the_finnish_page_says_why_a_task_waits_with_its_product_and_quantity(sqlite_stack: Stack) -> None:
    task, product = _give_a_task_quantity_zero(sqlite_stack)
    with httpx.Client(base_url=sqlite_stack.url, follow_redirects=False, timeout=30) as http:
        switch_on(http, sqlite_stack)
        page = f"/organizations/{ORG}/integration"
        finnish = _reasons_on(http.get(page, headers={"Accept-Language": "fi-FI,fi;q=0.9,en;q=0.8"}).text)
        english = _reasons_on(http.get(page, headers={"Accept-Language": "en-GB,en;q=0.9"}).text)
        [item] = [i for i in http.get(f"/api/v1/organizations/{ORG}/items").json() if i["spotilla_id"] == task]
    [reason] = [r for r in item["reasons"] if r["code"] == ReasonCode.QUANTITY_NOT_POSITIVE]
    quantity = reason["params"]["quantity"]
    assert Decimal(quantity) == 0 and reason["params"]["product"] == product

    assert f"Työtilauksen tuotteen {product} määrä on {quantity}; määrän on oltava suurempi kuin nolla." in finnish
    assert f"Product {product} on the task has quantity {quantity}; a quantity must be more than zero." in english
    assert not any("must be more than zero" in sentence for sentence in finnish)


def _give_a_task_quantity_zero(stack: Stack) -> tuple[int, str]:
    """What a person does in Spotilla: enters 0 as a product's quantity on a completed task; (task id, product)."""
    with stack.engine.begin() as conn:
        task, product_id, name = conn.execute(
            text(
                "SELECT t.id, p.id, p.name FROM tasks t JOIN task_products tp ON tp.task_id = t.id "
                "JOIN products p ON p.id = tp.product_id WHERE t.organization_id = :org AND t.status = 'COMPLETED' "
                "AND t.id <> :held_back ORDER BY t.id, p.id LIMIT 1"
            ),
            {"org": ORG, "held_back": stack.held_back_task},
        ).one()
        update = text("UPDATE task_products SET quantity = 0 WHERE task_id = :task AND product_id = :product")
        conn.execute(update, {"task": task, "product": product_id})
    return task, name


def _reasons_on(page: str) -> list[str]:
    """The reason sentences of the page's lists, as a reader sees them (without the code after each)."""
    items = re.findall(r'<ul class="reasons">(.*?)</ul>', page, re.DOTALL)
    sentences = re.findall(r"<li>(.*?)<span", "".join(items), re.DOTALL)
    return [html.unescape(sentence).strip() for sentence in sentences]
