"""Login failures by typed address: the lock of an address (known or not) counts its rows.

Revision ID: 5dbf24307056
Revises: 6efb043ac128
Create Date: 2026-11-24 05:16:04.253436
"""

import sqlalchemy as sa
from alembic import op


revision = '5dbf24307056'
down_revision = '6efb043ac128'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_email'), ['email'], unique=False)


def downgrade():
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_email'))
