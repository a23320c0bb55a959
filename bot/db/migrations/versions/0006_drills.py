"""drills: incidents flagged as practice, kept out of metrics, reports and response figures

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_drill", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_incidents_is_drill_declared", ["is_drill", "declared_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_is_drill_declared")
        batch_op.drop_column("is_drill")
