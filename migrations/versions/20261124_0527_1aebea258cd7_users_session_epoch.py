"""Users session epoch: part of the session key, raised on logout and on a new password.

Sessions live in the signed cookie; raising a user's epoch makes every session key issued
before it (copied cookies included) worthless. Existing users start at 0.

Revision ID: 1aebea258cd7
Revises: 5dbf24307056
Create Date: 2026-11-24 05:27:38.019670
"""

import sqlalchemy as sa
from alembic import op


revision = '1aebea258cd7'
down_revision = '5dbf24307056'
branch_labels = None
depends_on = None


def upgrade():
    # A temporary server default fills the existing rows; the model has none.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_epoch', server_default=None)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
