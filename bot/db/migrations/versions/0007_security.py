"""security incidents and the contact book: incident type and privacy, periodic jobs, policy reviews

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incident_type", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "periodic_jobs",
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(), nullable=True),
        sa.Column("last_run_by", sa.String(length=80), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_periodic_jobs")),
    )
    op.create_table(
        "policy_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("policy_hash", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_reviews")),
    )
    with op.batch_alter_table("policy_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_reviews_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("policy_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_reviews_at"))
    op.drop_table("policy_reviews")
    op.drop_table("periodic_jobs")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("private")
        batch_op.drop_column("incident_type")
