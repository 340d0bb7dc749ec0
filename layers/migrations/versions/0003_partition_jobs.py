"""partition jobs and proposed grid versions

A partition or rebalance writes a proposed grid version (not current) with its
report; a planner accepts it (it becomes current) or discards it. Jobs record
progress so that several API processes and the command line see the same run.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("grid_version", sa.Column("state", sa.Text(), server_default="accepted", nullable=False))
    op.add_column("grid_version", sa.Column("report", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.create_check_constraint(
        "ck_grid_version_state_allowed", "grid_version", "state IN ('proposed', 'accepted', 'discarded')"
    )
    op.create_table(
        "partition_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("state", sa.Text(), server_default="queued", nullable=False),
        sa.Column("progress", sa.Float(), server_default="0", nullable=False),
        sa.Column("stage", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("mode IN ('partition', 'rebalance')", name=op.f("ck_partition_job_mode_allowed")),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_partition_job_state_allowed")
        ),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name=op.f("ck_partition_job_progress_range")),
        sa.ForeignKeyConstraint(
            ["version_id"], ["grid_version.id"], name=op.f("fk_partition_job_version_id_grid_version"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partition_job")),
    )
    op.create_index(op.f("ix_partition_job_state"), "partition_job", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_partition_job_state"), table_name="partition_job")
    op.drop_table("partition_job")
    op.drop_constraint("ck_grid_version_state_allowed", "grid_version", type_="check")
    op.drop_column("grid_version", "report")
    op.drop_column("grid_version", "state")
