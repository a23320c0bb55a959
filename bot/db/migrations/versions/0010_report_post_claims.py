"""report post claims: a post is claimed in one short transaction and sent with none open

A row being sent is 'sending', stamped with when and by whom; a claim older than the lease belongs
to a dead process and is taken over (as response_timers rows are).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report_posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=80), nullable=True))


def downgrade() -> None:
    # A post being sent when the schema goes back is tried again by the older code.
    op.execute("UPDATE report_posts SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table("report_posts", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("claimed_at")
