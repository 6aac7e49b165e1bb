"""Users awaiting approval: approval of an organisation enables only these accounts.

Before, approval enabled every user of the organisation, including ones staff had disabled
on purpose. Existing disabled users of organisations still pending or rejected are the
self-registered ones and are marked as waiting.

Revision ID: 6efb043ac128
Revises: 5fae82692ec1
Create Date: 2026-11-24 05:12:26.531378
"""

import sqlalchemy as sa
from alembic import op


revision = '6efb043ac128'
down_revision = '5fae82692ec1'
branch_labels = None
depends_on = None


def upgrade():
    # A temporary server default fills the existing rows; the model has none.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('awaiting_approval', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.execute(
        "UPDATE users SET awaiting_approval = TRUE WHERE is_enabled = FALSE AND organisation_id IN "
        "(SELECT id FROM organisations WHERE status IN ('pending', 'rejected'))"
    )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('awaiting_approval', server_default=None)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('awaiting_approval')
