"""`spotilla-procountor demo`: the whole story on a fresh machine, in plain words, with nothing configured."""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.app.container import build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data
from spotilla_procountor.app.render import FLOW_TITLES, FLOWS, print_report
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.procountor import Address, NewPartner
from spotilla_procountor.domain.state import Event
from spotilla_procountor.domain.sync import SyncReport

ORG = 1
DEMO_IBAN = "FI4950009420028730"
# The fake's published demo credentials: the integration's API client, and the API key of the demo organization.
CLIENT_ID, CLIENT_SECRET, API_KEY = "demo-client", "demo-secret", "demo-api-key"


def _cycle(console: Console, container, expected: dict[str, int]) -> SyncReport:
    """One cycle with a progress bar per flow."""
    with Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), console=console) as bars:
        tasks = {flow: bars.add_task(FLOW_TITLES[flow], total=expected.get(flow) or None) for flow in FLOWS}
        seen: Counter[str] = Counter()

        def on_event(event: Event) -> None:
            seen[event.flow] += 1
            bars.update(tasks[event.flow], completed=seen[event.flow])

        service = container.sync_service()
        service.on_event = on_event
        report = service.sync(ORG)
        for flow in FLOWS:
            bars.update(tasks[flow], total=max(seen[flow], 1), completed=max(seen[flow], 1))
    return report


def _story(console: Console, text: str) -> None:
    console.print(f"\n[bold cyan]▶[/] {text}")


def run_demo(console: Console, *, workdir: Path | None = None) -> int:
    """Runs the demo end to end; returns the exit code."""
    with tempfile.TemporaryDirectory(prefix="spotilla-procountor-demo-") as tmp:
        folder = workdir or Path(tmp)
        fake = FakeProcountor(**_creds())
        with fake.serve() as served:
            return _run(console, folder, served.url, fake)


def _run(console: Console, folder: Path, procountor_url: str, fake: FakeProcountor) -> int:
    settings = Settings(
        database_url=f"sqlite:///{folder / 'spotilla.sqlite3'}",
        secret_key=new_key(),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        procountor_adapter="http",
        interval_minutes=30,
        _env_file=None,
        # an operator's own secret files (in the environment) are not the demo's
        secret_key_file=None,
        client_id_file=None,
        client_secret_file=None,
    )
    container = build_container(settings)
    _story(console, "Spotilla's database: an embedded SQLite file, with the integration's tables added.")
    upgrade_database(container.engine())
    summary = generate_demo_data(container.engine(), organization_id=ORG, size=DemoSize(), seed=7)
    console.print(
        f"  Demo Huolto Oy (organization {ORG}) has {summary.customers} customers, {summary.products} products "
        f"and {summary.tasks} work orders, {summary.tasks_completed} of them completed."
    )
    _story(console, f"Procountor: a fake Procountor company answering on {procountor_url}.")
    tenants = container.tenants()
    tenants.enable(
        ORG, API_KEY, environment=procountor_url, bank_account=DEMO_IBAN, tasks_completed_from=date(2000, 1, 1)
    )
    console.print(
        "  The organization's admin created an API key in Procountor and switched the integration on with it; the key "
        "was checked and stored encrypted."
    )
    gateway = container.gateways().gateway(environment=procountor_url, **_creds())
    with gateway:
        gateway.create_partner(
            NewPartner(
                name="Procountorin Oma Asiakas Oy",
                business_id="2077474-0",
                address=Address("Procountorin Oma Asiakas Oy", "Satamakatu 3", "00160", "Helsinki", "FINLAND"),
                payment_term_days=21,
            )
        )
    console.print("  An accountant already had one customer in Procountor that Spotilla does not know.")

    _story(console, "First cycle: products, customers both ways, then invoices for completed work.")
    first = _cycle(console, container, {"products": summary.products, "invoices": summary.tasks_completed})
    print_report(console, first)

    _story(console, "An accountant edits a customer in Procountor: new billing address, 30-day payment term.")
    partner = next(p for p in fake.partners() if p["invoicingInfo"].get("identifier") != "2077474-0")
    fake.edit_partner(
        partner["id"],
        {
            "billingAddress": {
                "name": partner["name"],
                "street": "Uusi Laskutuskatu 9",
                "zip": "33100",
                "city": "Tampere",
                "country": "FINLAND",
            },
            "paymentInfo": {**partner["paymentInfo"], "paymentTermDays": "30"},
        },
    )
    _story(console, "Second cycle: the change is pulled back into Spotilla; nothing is created twice.")
    second = _cycle(console, container, {})
    print_report(console, second)
    return _conclude(console, first, second, fake)


def _creds() -> dict[str, str]:
    return {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "api_key": API_KEY}


def _conclude(console: Console, first: SyncReport, second: SyncReport, fake: FakeProcountor) -> int:
    invoices = fake.invoices()
    created_twice = sum(v for k, v in second.counts.items() if k.endswith(".CREATED") and k != "partners_in.CREATED")
    pulled = second.counts.get("partners_in.UPDATED", 0)
    statuses = Counter(i["status"] for i in invoices)
    _story(console, "What happened, in plain words:")
    console.print(
        f"  • Procountor now holds {len(fake.products())} products, {len(fake.partners())} customers and "
        f"{len(invoices)} invoices, all of them {', '.join(f'{s} ({n})' for s, n in statuses.items())} — "
        "drafts waiting for an accountant's review."
    )
    held = first.counts.get("invoices.HELD_BACK", 0)
    console.print(
        f"  • {held} completed work orders were held back, each with a reason a person can fix (table above)."
    )
    console.print(f"  • The accountant's edit reached Spotilla: {pulled} customer updated from Procountor.")
    console.print(f"  • The second cycle created {created_twice} new objects in Procountor (nothing twice).")
    ok = first.status == "SUCCEEDED" and second.status == "SUCCEEDED" and created_twice == 0 and pulled >= 1
    console.print("[bold green]Demo finished.[/]" if ok else "[bold red]Demo did not go as expected.[/]")
    return 0 if ok else 1
