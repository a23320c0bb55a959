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

# Rows written before this revision: the checklist was always the six steps in this order.
STEPS_BY_POSITION = ("confirm", "start", "stop_loss", "root_cause", "verify", "review")


def upgrade() -> None:
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("nudged_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("late_seconds", sa.Integer(), nullable=True))
    items = sa.table("checklist_items", sa.column("position", sa.Integer), sa.column("step", sa.String))
    for position, step in enumerate(STEPS_BY_POSITION):
        op.execute(items.update().where(items.c.position == position).values(step=step))

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
