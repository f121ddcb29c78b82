"""One record table for products, customers and tasks; run-lock epochs (fences) for claims.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

`procountor_links` (products, customers) and `procountor_transfers` (tasks) become `procountor_records`, with one
state machine (a transfer's CREATED is LINKED now, its key is derived from the task) and reasons stored as code +
parameters. Reasons stored earlier as sentences are kept verbatim. `procountor_fences` holds each tenant's run-lock
epoch, which every claim must carry.
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from spotilla_procountor.domain.keys import invoice_key
from spotilla_procountor.domain.reasons import Reason, ReasonCode

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEGACY = "_text"
_RECORD_COLUMNS = "organization_id kind spotilla_id procountor_id state reasons fingerprint attempts updated_at".split()
_LINK_REASON_CODE = {"PRODUCT": "PRODUCT_NOT_CREATABLE", "CUSTOMER": "CUSTOMER_NOT_IN_PROCOUNTOR"}


def _utc_now() -> sa.TextClause:
    if op.get_bind().dialect.name == "postgresql":
        return sa.text("timezone('utc', now())")
    return sa.text("CURRENT_TIMESTAMP")


def _create_tables() -> None:
    op.create_table(
        "procountor_records",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("spotilla_id", sa.BigInteger(), nullable=False),
        sa.Column("procountor_id", sa.BigInteger()),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("fingerprint", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("claim_epoch", sa.BigInteger()),
        sa.Column("claimed_at", sa.DateTime()),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=_utc_now()),
        sa.PrimaryKeyConstraint("organization_id", "kind", "spotilla_id", name="pk_procountor_records"),
    )
    # A retired record (its Spotilla item deleted) keeps its Procountor id as history without holding it.
    op.create_index(
        "uq_procountor_records_organization_id_kind_procountor_id",
        "procountor_records",
        ["organization_id", "kind", "procountor_id"],
        unique=True,
        sqlite_where=sa.text("state <> 'RETIRED'"),
        postgresql_where=sa.text("state <> 'RETIRED'"),
    )
    op.create_index(
        "ix_procountor_records_organization_id_kind_state", "procountor_records", ["organization_id", "kind", "state"]
    )
    op.create_table(
        "procountor_fences",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False, server_default=_utc_now()),
        sa.PrimaryKeyConstraint("organization_id", name="pk_procountor_fences"),
    )


def _sentence_reason(code: str, text: str) -> dict[str, Any]:
    return {"code": code, "params": {_LEGACY: text}}


def _transfer_reasons(stored: str | None) -> str:
    """`CODE: sentence` strings as code + the sentence verbatim; text without a code this version knows is kept
    whole, under a generic code."""
    reasons = []
    for item in json.loads(stored or "[]"):
        code, _, sentence = str(item).partition(": ")
        if code in ReasonCode.__members__ and sentence:
            reasons.append(_sentence_reason(code, sentence))
        else:
            reasons.append(_sentence_reason(ReasonCode.FIELD_INVALID.value, str(item)))
    return json.dumps(reasons, ensure_ascii=False)


def _copy_rows() -> None:
    bind = op.get_bind()
    records = sa.table(
        "procountor_records",
        *(sa.column(c) for c in _RECORD_COLUMNS),
    )
    rows = []
    for link in bind.execute(sa.text("SELECT * FROM procountor_links")).mappings():
        reason = link["reason"]
        rows.append(
            {
                "organization_id": link["organization_id"],
                "kind": link["kind"],
                "spotilla_id": link["spotilla_id"],
                "procountor_id": link["procountor_id"],
                "state": link["state"],
                "reasons": json.dumps(
                    [_sentence_reason(_LINK_REASON_CODE.get(link["kind"], "FIELD_INVALID"), reason)] if reason else [],
                    ensure_ascii=False,
                ),
                "fingerprint": link["fingerprint"],
                "attempts": 0,
                "updated_at": link["updated_at"],
            }
        )
    for transfer in bind.execute(sa.text("SELECT * FROM procountor_transfers")).mappings():
        rows.append(
            {
                "organization_id": transfer["organization_id"],
                "kind": "TASK",
                "spotilla_id": transfer["task_id"],
                "procountor_id": transfer["invoice_id"],
                "state": "LINKED" if transfer["state"] == "CREATED" else transfer["state"],
                "reasons": _transfer_reasons(transfer["reasons"]),
                "fingerprint": transfer["fingerprint"],
                "attempts": transfer["attempts"],
                "updated_at": transfer["updated_at"],
            }
        )
    for start in range(0, len(rows), 500):
        bind.execute(records.insert(), rows[start : start + 500])


def upgrade() -> None:
    _create_tables()
    _copy_rows()
    op.drop_table("procountor_transfers")
    op.drop_table("procountor_links")


def _old_tables() -> None:
    """The tables of revision 0001, for a downgrade."""
    op.create_table(
        "procountor_links",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("spotilla_id", sa.BigInteger(), nullable=False),
        sa.Column("procountor_id", sa.BigInteger()),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text()),
        sa.Column("reason", sa.Text()),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=_utc_now()),
        sa.PrimaryKeyConstraint("organization_id", "kind", "spotilla_id", name="pk_procountor_links"),
        sa.UniqueConstraint(
            "organization_id", "kind", "procountor_id", name="uq_procountor_links_organization_id_kind_procountor_id"
        ),
    )
    op.create_table(
        "procountor_transfers",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("invoice_id", sa.BigInteger()),
        sa.Column("reasons", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("fingerprint", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=_utc_now()),
        sa.PrimaryKeyConstraint("organization_id", "task_id", name="pk_procountor_transfers"),
        sa.UniqueConstraint("organization_id", "key", name="uq_procountor_transfers_organization_id_key"),
    )


def _copy_back() -> None:
    bind = op.get_bind()
    links = sa.table(
        "procountor_links",
        *(
            sa.column(c)
            for c in "organization_id kind spotilla_id procountor_id state fingerprint reason updated_at".split()
        ),
    )
    transfers = sa.table(
        "procountor_transfers",
        *(
            sa.column(c)
            for c in "organization_id task_id key state invoice_id reasons fingerprint attempts updated_at".split()
        ),
    )
    link_rows, transfer_rows = [], []
    for row in bind.execute(sa.text("SELECT * FROM procountor_records")).mappings():
        reasons = [Reason.from_json(r) for r in json.loads(row["reasons"] or "[]")]
        if row["kind"] == "TASK":
            transfer_rows.append(
                {
                    "organization_id": row["organization_id"],
                    "task_id": row["spotilla_id"],
                    "key": invoice_key(row["organization_id"], row["spotilla_id"]),
                    "state": "CREATED" if row["state"] == "LINKED" else row["state"],
                    "invoice_id": row["procountor_id"],
                    "reasons": json.dumps([str(r) for r in reasons], ensure_ascii=False),
                    "fingerprint": row["fingerprint"],
                    "attempts": row["attempts"],
                    "updated_at": row["updated_at"],
                }
            )
        else:
            link_rows.append(
                {
                    "organization_id": row["organization_id"],
                    "kind": row["kind"],
                    "spotilla_id": row["spotilla_id"],
                    "procountor_id": row["procountor_id"],
                    "state": row["state"] if row["state"] != "SENT" else "PENDING",
                    "fingerprint": row["fingerprint"],
                    "reason": " ".join(r.message for r in reasons) or None,
                    "updated_at": row["updated_at"],
                }
            )
    for table, rows in ((links, link_rows), (transfers, transfer_rows)):
        for start in range(0, len(rows), 500):
            bind.execute(table.insert(), rows[start : start + 500])


def downgrade() -> None:
    _old_tables()
    _copy_back()
    op.drop_table("procountor_fences")
    op.drop_index("ix_procountor_records_organization_id_kind_state", table_name="procountor_records")
    op.drop_index("uq_procountor_records_organization_id_kind_procountor_id", table_name="procountor_records")
    op.drop_table("procountor_records")
