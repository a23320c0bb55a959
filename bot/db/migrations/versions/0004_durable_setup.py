"""durable war-room set-up steps; what the declarer was told about set-up

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "setup_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_setup_steps_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setup_steps")),
        sa.UniqueConstraint("incident_id", "step", name=op.f("uq_setup_steps_incident_id_step")),
    )
    with op.batch_alter_table("setup_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_setup_steps_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index("ix_setup_steps_due", ["status", "next_attempt_at"], unique=False)
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("setup_notice", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("setup_notice")
    with op.batch_alter_table("setup_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_setup_steps_due")
        batch_op.drop_index(batch_op.f("ix_setup_steps_incident_id"))
    op.drop_table("setup_steps")
