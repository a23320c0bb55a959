"""response clock: checklist rows carry their step, budget and lateness; response timer rows

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Rows written before this revision: the six steps in this order, each text starting like this
# (a security incident's checklist, revision 0007, has other texts and keeps no step).
STEPS_BY_POSITION = (
    ("confirm", "Confirm the incident"),
    ("start", "Start the response"),
    ("stop_loss", "Stop the loss"),
    ("root_cause", "Find the root cause"),
    ("verify", "Fix and verify"),
    ("review", "Review within 3 days"),
)


def upgrade() -> None:
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("nudged_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("late_seconds", sa.Integer(), nullable=True))
    items = sa.table(
        "checklist_items",
        sa.column("position", sa.Integer),
        sa.column("text", sa.String),
        sa.column("step", sa.String),
    )
    for position, (step, start) in enumerate(STEPS_BY_POSITION):
        op.execute(
            items.update()
            .where(items.c.position == position, items.c.text.like(f"{start}%"))
            .values(step=step)
        )

    op.create_table(
        "response_timers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("sent_to", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_response_timers_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_timers")),
        sa.UniqueConstraint(
            "incident_id", "kind", "step", "seq", name=op.f("uq_response_timers_incident_id_kind_step_seq")
        ),
    )
    with op.batch_alter_table("response_timers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_response_timers_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index("ix_response_timers_due", ["status", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_table("response_timers")
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.drop_column("late_seconds")
        batch_op.drop_column("nudged_at")
        batch_op.drop_column("due_at")
        batch_op.drop_column("step")
