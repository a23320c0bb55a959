"""policy key: a digest of each incident's policy snapshot

Incidents declared under one YAML share one key, so an escalation pass over a thousand of them reads
and parses one snapshot instead of a thousand. Existing incidents get their key here; an incident
without one (written by an older replica during a rolling upgrade) has its snapshot read as before.

Revision ID: 0011
Revises: 0010
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _key(snapshot: object) -> str:
    # The same canonical form as bot.incidents.models.snapshot_key, frozen here with this revision.
    if isinstance(snapshot, str):
        snapshot = json.loads(snapshot)
    canonical = json.dumps(snapshot or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("policy_key", sa.String(length=64), nullable=True))
    incidents = sa.table(
        "incidents",
        sa.column("id", sa.Integer),
        sa.column("policy_snapshot", sa.JSON),
        sa.column("policy_key"),
    )
    bind = op.get_bind()
    last = 0
    while True:  # in batches: a large history is not read into memory at once
        rows = bind.execute(
            sa.select(incidents.c.id, incidents.c.policy_snapshot)
            .where(incidents.c.id > last)
            .order_by(incidents.c.id)
            .limit(500)
        ).all()
        if not rows:
            return
        bind.execute(
            sa.update(incidents).where(incidents.c.id == sa.bindparam("row_id")),
            [{"row_id": row.id, "policy_key": _key(row.policy_snapshot)} for row in rows],
        )
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("policy_key")
