"""Finnish demo data for one organization, written into Spotilla's tables with plain SQL, as an outside tool would."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import islice
from typing import Any

from sqlalchemy import BindParameter, DateTime, Engine, Numeric, TextClause, bindparam, text
from sqlalchemy.engine import Connection

Row = dict[str, Any]
BATCH_SIZE = 1000  # rows per statement: 1000 x 19 customer columns stays under SQLite's 32766 bind parameters

_SURNAMES = ("Virtanen Mäkinen Korhonen Nieminen Lahtinen Mäkelä Hämäläinen Laine Heikkinen Koskinen Järvinen "
             "Lehtonen Saarinen Salminen Heinonen Niemi Kinnunen Salonen Turunen Lindqvist").split()  # fmt: skip
_TRADES = "Rakennus Kiinteistöpalvelu Sähkö LVI Logistiikka Putki Huolto Kone Lämpö Ilmastointi Maalaus".split()
_FORMS = ("Oy",) * 7 + ("Ab", "Ky", "Oyj")
_CITIES = (
    ("Helsinki", "00100"), ("Espoo", "02100"), ("Tampere", "33100"), ("Turku", "20100"), ("Oulu", "90100"),
    ("Jyväskylä", "40100"), ("Kuopio", "70100"), ("Lahti", "15100"), ("Vantaa", "01300"), ("Pori", "28100"),
)  # fmt: skip
_STREETS = ("Mannerheimintie Hämeenkatu Aleksanterinkatu Kauppakatu Teollisuustie Rantatie Koulukatu Asemakatu "
            "Puistokatu Satamakatu").split()  # fmt: skip
_EINVOICE_OPERATORS = ("003721291126", "E204503", "003703575029")  # Maventa, OP, CGI
_PAYMENT_TERMS = (None, 7, 14, 21, 30)
_MALFORMED_BUSINESS_IDS = ("12345-67", "ABC", "123456789", "FI 12-34", "1234567-")
_BUSINESS_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)

# (name, unit, lowest and highest net price in cents, VAT percent)
_PRODUCTS = (
    ("Asennustyö", "h", 6200, 7800, "25.5"), ("Huoltotyö", "h", 5500, 7200, "25.5"),
    ("Matkakulut", "km", 55, 65, "25.5"), ("Kaapeli MMJ 3x2,5", "m", 180, 260, "25.5"),
    ("Suodatin", "pcs", 1200, 4500, "25.5"), ("Öljy", "l", 800, 1400, "25.5"),
    ("Materiaali", "kg", 300, 900, "25.5"), ("Päivystyslisä", "h", 3000, 4500, "25.5"),
    ("Pistorasia", "pcs", 900, 1800, "25.5"), ("Putkieriste", "m", 250, 600, "25.5"),
    ("Kahvitarjoilu", "pcs", 250, 450, "14"), ("Ammattilehden tilaus", "pcs", 1500, 3000, "10"),
    ("Jäähdytysneste", "l", 600, 1100, "25.5"), ("Tiivistesarja", "pcs", 1500, 3500, "25.5"),
    ("Rakennustyö, käännetty ALV", "h", 5500, 7000, "0"), ("Sulake 16A", "pcs", 150, 400, "25.5"),
)  # fmt: skip
_QUANTITIES = {
    "h": ("0.25", "0.5", "1", "1.5", "2", "3.5", "7.5"), "km": ("12.000", "25", "48.5", "112"),
    "m": ("2.5", "10", "25", "50"), "pcs": ("1", "2", "4", "10"), "l": ("0.5", "1", "4", "20"),
    "kg": ("0.25", "1.2", "5", "12.000"),
}  # fmt: skip
_TASK_TITLES = ("Ilmanvaihdon huolto", "Sähköasennus", "Lämpöpumpun vuosihuolto", "Vesivuodon korjaus",
                "Kiinteistökierros", "Valaistuksen uusiminen", "Suodattimien vaihto", "Ovipuhelimen asennus",
                "Viemärin avaus", "Sähkökeskuksen tarkastus", "Patterien ilmaus", "Lukon vaihto")  # fmt: skip
_DESCRIPTIONS = (None, "Asiakas ilmoitti viasta puhelimitse.", "Vuosisopimuksen mukainen käynti.",
                 "Avain noudettava isännöitsijältä.", "Työ tehtävä ennen klo 16.", "Tarvikkeet autosta.")  # fmt: skip
_STATUS_WEIGHTS = {"COMPLETED": 55, "IN_PROGRESS": 18, "OPEN": 17, "CANCELLED": 10}
# Typed binds so that each driver gets what it accepts: sqlite3 takes no Decimal, timestamps go in as naive UTC.
_COLUMN_TYPES = {"created_at": DateTime(), "updated_at": DateTime(), "completed_at": DateTime(),
                 "unit_price": Numeric(12, 2), "vat_percent": Numeric(5, 2), "quantity": Numeric(12, 3)}  # fmt: skip


@dataclass(frozen=True)
class DemoSize:
    """How much demo data to make; `bad_customer_share` of customers have a bad business ID or no name."""

    customers: int = 40
    products: int = 15
    tasks: int = 60
    max_products_per_task: int = 4
    bad_customer_share: float = 0.1


@dataclass(frozen=True)
class DemoDataSummary:
    """What `generate_demo_data` inserted, ids in insertion order."""

    organization_id: int
    customers: int
    products: int
    tasks: int
    tasks_completed: int
    customer_ids: list[int]
    product_ids: list[int]
    task_ids: list[int]


def generate_demo_data(
    connection_or_engine: Connection | Engine,
    *,
    organization_id: int,
    organization_name: str | None = None,
    size: DemoSize = DemoSize(),
    seed: int = 0,
    now: datetime | None = None,
) -> DemoDataSummary:
    """Inserts one organization's customers, products and tasks in one transaction; same seed and now, same rows."""
    if now is not None and now.tzinfo is None:
        raise ValueError(f"refusing a naive now ({now.isoformat()}); pass a timezone-aware one")
    rng = random.Random(seed)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    name = organization_name or "Demo Huolto Oy"

    def run(conn: Connection) -> DemoDataSummary:
        return _generate(conn, org=organization_id, name=name, size=size, rng=rng, now=moment)

    if isinstance(connection_or_engine, Engine):
        with connection_or_engine.begin() as connection:
            return run(connection)
    with nullcontext() if connection_or_engine.in_transaction() else connection_or_engine.begin():
        return run(connection_or_engine)


def _generate(
    conn: Connection, *, org: int, name: str, size: DemoSize, rng: random.Random, now: datetime
) -> DemoDataSummary:
    if conn.dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        raise RuntimeError(f"demo data needs SQLite 3.35+ for INSERT ... RETURNING, this is {sqlite3.sqlite_version}")
    _ensure_organization(conn, org, name)
    taken_ids = _existing(conn, "SELECT business_id FROM customers WHERE organization_id = :org", org)
    taken_codes = _existing(conn, "SELECT code FROM products WHERE organization_id = :org", org)
    customers = [_customer(rng, org, now, bad, taken_ids) for bad in _bad_kinds(rng, size)]
    products = _products(rng, org, now, size.products, taken_codes)
    customer_ids = _insert_returning_ids(conn, "customers", customers)
    product_ids = _insert_returning_ids(conn, "products", products)
    tasks = [_task(rng, org, now, status, customer_ids) for status in _statuses(rng, size.tasks)]
    task_ids = _insert_returning_ids(conn, "tasks", tasks)
    _execute_many(conn, "task_products", _task_products(rng, task_ids, products, product_ids, size))
    completed = sum(task["status"] == "COMPLETED" for task in tasks)
    return DemoDataSummary(org, len(customer_ids), len(product_ids), len(task_ids), completed,
                           customer_ids, product_ids, task_ids)  # fmt: skip


def _ensure_organization(conn: Connection, org: int, name: str) -> None:
    if conn.execute(text("SELECT 1 FROM organizations WHERE id = :org"), {"org": org}).first() is None:
        conn.execute(text("INSERT INTO organizations (id, name) VALUES (:org, :name)"), {"org": org, "name": name})


def _existing(conn: Connection, sql: str, org: int) -> set[str]:
    return {value for (value,) in conn.execute(text(sql), {"org": org}) if value}


def business_id_check_digit(digits: str) -> int | None:
    """Y-tunnus check digit for seven digits; None when the number has none (remainder 1) and is never issued."""
    remainder = sum(int(d) * w for d, w in zip(digits, _BUSINESS_ID_WEIGHTS, strict=True)) % 11
    if remainder == 1:
        return None
    return 0 if remainder == 0 else 11 - remainder


def _new_business_id(rng: random.Random, taken: set[str]) -> str:
    while True:
        digits = f"{rng.randrange(100_000, 3_400_000):07d}"
        check = business_id_check_digit(digits)
        candidate = f"{digits}-{check}"
        if check is not None and candidate not in taken:
            taken.add(candidate)
            return candidate


def _bad_kinds(rng: random.Random, size: DemoSize) -> list[str | None]:
    """One entry per customer: None for a clean one, else what is wrong with it, every kind present when possible."""
    bad = round(size.customers * size.bad_customer_share)
    kinds: list[str | None] = ["missing", "blank", "malformed", "check_digit", "no_name"] * bad
    kinds = kinds[:bad] + [None] * (size.customers - bad)
    rng.shuffle(kinds)
    return kinds


def _business_id(rng: random.Random, kind: str | None, taken: set[str]) -> str | None:
    if kind in (None, "no_name"):
        return _new_business_id(rng, taken)
    if kind == "check_digit":
        valid = _new_business_id(rng, set())
        return f"{valid[:-1]}{(int(valid[-1]) + rng.randint(1, 9)) % 10}"
    if kind == "malformed":
        return rng.choice(_MALFORMED_BUSINESS_IDS)
    return rng.choice(("", "   ")) if kind == "blank" else None


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randint(0, int((end - start).total_seconds())))


def _ascii(value: str) -> str:
    return value.lower().replace("ä", "a").replace("ö", "o").replace("å", "a").replace(" ", "-")


def _customer(rng: random.Random, org: int, now: datetime, bad: str | None, taken_ids: set[str]) -> Row:
    surname, trade, form = rng.choice(_SURNAMES), rng.choice(_TRADES), rng.choice(_FORMS)
    domain = f"{_ascii(surname)}-{_ascii(trade)}.fi"
    city, postal_code = rng.choice(_CITIES)
    created = now - timedelta(days=rng.randint(30, 900), seconds=rng.randint(0, 86_399))
    billed = rng.random() < 0.3
    business_id = _business_id(rng, bad, taken_ids)
    return {
        "organization_id": org, "business_id": business_id, **_einvoice(rng, business_id, bad),
        "name": rng.choice((None, "", " ")) if bad == "no_name" else f"{surname} {trade} {form}",
        "email": f"{rng.choice(('info', 'toimisto', 'asiakaspalvelu'))}@{domain}",
        "phone": f"+358{rng.choice(('40', '44', '45', '50', '9'))}{rng.randrange(1_000_000, 9_999_999)}",
        "street_address": f"{rng.choice(_STREETS)} {rng.randint(1, 80)}", "postal_code": postal_code,
        "city": city, "country": "FI",
        "billing_street": f"PL {rng.randint(10, 999)}" if billed else None,
        "billing_postal_code": postal_code if billed else None, "billing_city": city if billed else None,
        "billing_country": "FI" if billed else None, "billing_email": f"laskutus@{domain}" if billed else None,
        "payment_term_days": rng.choice(_PAYMENT_TERMS),
        "created_at": created, "updated_at": _between(rng, created, now),
    }  # fmt: skip


def _einvoice(rng: random.Random, business_id: str | None, bad: str | None) -> Row:
    """E-invoice address (OVT: 0037 + business ID digits + optional suffix) for about a quarter of valid customers."""
    if rng.random() >= 0.25 or business_id is None or bad not in (None, "no_name"):
        return {"einvoice_address": None, "einvoice_operator": None}
    address = f"0037{business_id.replace('-', '')}{rng.choice(('', '', '001', '100'))}"
    return {"einvoice_address": address, "einvoice_operator": rng.choice(_EINVOICE_OPERATORS)}


def _products(rng: random.Random, org: int, now: datetime, count: int, taken_codes: set[str]) -> list[Row]:
    rows, number = [], 1000
    for index in range(count):
        name, unit, low, high, vat = _PRODUCTS[index % len(_PRODUCTS)]
        round_ = index // len(_PRODUCTS)
        number += 1
        while f"P-{number}" in taken_codes:
            number += 1
        created = now - timedelta(days=rng.randint(60, 1500))
        rows.append({
            "organization_id": org, "code": f"P-{number}", "name": f"{name} {round_ + 1}" if round_ else name,
            "unit": unit, "unit_price": Decimal(rng.randint(low, high)) / 100, "vat_percent": Decimal(vat),
            "created_at": created, "updated_at": created + timedelta(days=rng.randint(0, 50)),
        })  # fmt: skip
    return rows


def _statuses(rng: random.Random, count: int) -> list[str]:
    """Every status at least once (when there are enough tasks), mostly COMPLETED."""
    statuses = list(_STATUS_WEIGHTS)[:count]
    statuses += rng.choices(list(_STATUS_WEIGHTS), weights=list(_STATUS_WEIGHTS.values()), k=count - len(statuses))
    rng.shuffle(statuses)
    return statuses


def _completed_at(rng: random.Random, now: datetime) -> datetime:
    if rng.random() < 0.2:  # late evening UTC is already the next day in Helsinki
        day = (now - timedelta(days=rng.randint(1, 29))).date()
        return datetime.combine(day, time(22, rng.randint(0, 59), rng.randint(0, 59)), UTC)
    return now - timedelta(seconds=rng.randint(60, 30 * 86_400 - 1))


def _order_number(rng: random.Random, now: datetime) -> str | None:
    roll = rng.random()
    if roll < 0.5:
        return f"PO-{now.year}-{rng.randint(1, 9999):04d}"
    return "" if roll < 0.6 else None


def _task(rng: random.Random, org: int, now: datetime, status: str, customer_ids: Sequence[int]) -> Row:
    completed = _completed_at(rng, now) if status == "COMPLETED" else None
    created = (completed or now) - timedelta(minutes=rng.randint(30, 20 * 24 * 60))
    updated = completed or _between(rng, created, now)
    customer_id = rng.choice(customer_ids) if customer_ids and rng.random() < 0.93 else None
    return {
        "organization_id": org, "customer_id": customer_id, "title": rng.choice(_TASK_TITLES),
        "description": rng.choice(_DESCRIPTIONS), "status": status, "order_number": _order_number(rng, now),
        "completed_at": completed, "created_at": created, "updated_at": updated,
    }  # fmt: skip


def _task_products(
    rng: random.Random, task_ids: list[int], products: list[Row], product_ids: list[int], size: DemoSize
) -> Iterator[Row]:
    if not product_ids:
        return
    for task_id in task_ids:
        picks = rng.sample(range(len(product_ids)), min(rng.randint(1, size.max_products_per_task), len(product_ids)))
        for pick in picks:
            quantity = Decimal(rng.choice(_QUANTITIES[products[pick]["unit"]])).quantize(Decimal("0.001"))
            yield {"task_id": task_id, "product_id": product_ids[pick], "quantity": quantity}


def _batches(rows: Iterable[Row]) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH_SIZE)):
        yield batch


def _typed(columns: Sequence[str], suffix: str = "") -> list[BindParameter[Any]]:
    return [bindparam(f"{c}{suffix}", type_=_COLUMN_TYPES[c]) for c in columns if c in _COLUMN_TYPES]


def _naive_utc(row: Row) -> Row:
    """Spotilla's timestamp columns hold UTC without a zone."""
    return {k: v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v for k, v in row.items()}


def _execute_many(conn: Connection, table: str, rows: Iterator[Row]) -> None:
    for batch in _batches(rows):
        columns = list(batch[0])
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"  # noqa: S608
        conn.execute(text(sql).bindparams(*_typed(columns)), [_naive_utc(row) for row in batch])


@lru_cache(maxsize=16)
def _multi_row_insert(table: str, columns: tuple[str, ...], rows: int) -> TextClause:
    """Built once per table and batch length: parsing thousands of bind names is the slow part of a big statement."""
    values = ", ".join("(" + ", ".join(f":{c}_{i}" for c in columns) + ")" for i in range(rows))
    sql = text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} RETURNING id")  # noqa: S608
    return sql.bindparams(*[p for i in range(rows) for p in _typed(columns, f"_{i}")])


def _insert_returning_ids(conn: Connection, table: str, rows: list[Row]) -> list[int]:
    """Multi-row INSERT ... RETURNING id; ids come from one sequence in this session, so sorted ids follow row order."""
    ids: list[int] = []
    for batch in _batches(rows):
        statement = _multi_row_insert(table, tuple(batch[0]), len(batch))
        params = {f"{c}_{i}": v for i, row in enumerate(batch) for c, v in _naive_utc(row).items()}
        ids += sorted(conn.execute(statement, params).scalars())
    return ids
