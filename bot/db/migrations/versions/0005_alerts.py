"""alerts in: the inbox of received alerts and one row per alert group

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("group_hash", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("alert", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_alert_events_dedupe_key")),
    )
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.create_index("ix_alert_events_pending", ["processed_at", "id"], unique=False)

    op.create_table(
        "alert_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("group_hash", sa.String(length=64), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("route", sa.Integer(), nullable=True),
        sa.Column("severity", sa.String(length=4), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("auto_resolve", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("alerts", sa.JSON(), nullable=False),
        sa.Column("activation", sa.Integer(), nullable=False),
        sa.Column("activated_at", sa.DateTime(), nullable=True),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("told_repeats", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("previous_incident_id", sa.Integer(), nullable=True),
        sa.Column("is_storm", sa.Boolean(), nullable=False),
        sa.Column("storm_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("proposal_channel", sa.String(length=32), nullable=True),
        sa.Column("proposal_ts", sa.String(length=32), nullable=True),
        sa.Column("notice_ts", sa.String(length=32), nullable=True),
        sa.Column("resolution_told", sa.Boolean(), nullable=False),
        sa.Column("confirm_at", sa.DateTime(), nullable=True),
        sa.Column("dirty_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_alert_groups_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["storm_id"],
            ["alert_groups.id"],
            name=op.f("fk_alert_groups_storm_id_alert_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_groups")),
        sa.UniqueConstraint("source", "group_hash", name=op.f("uq_alert_groups_source_group_hash")),
    )
    with op.batch_alter_table("alert_groups", schema=None) as batch_op:
        batch_op.create_index("ix_alert_groups_confirm", ["confirm_at"], unique=False)
        batch_op.create_index("ix_alert_groups_dirty", ["dirty_at"], unique=False)
        batch_op.create_index("ix_alert_groups_source_activated", ["source", "activated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_groups_source_activated")
        batch_op.drop_index("ix_alert_groups_dirty")
        batch_op.drop_index("ix_alert_groups_confirm")

    op.drop_table("alert_groups")
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_events_pending")

    op.drop_table("alert_events")
