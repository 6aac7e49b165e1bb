"""optimistic locking: a version counter on the records people edit through forms

A stale edit (the row's version moved since the form was opened) is refused instead of
silently overwriting. Existing rows start at version 1.

Revision ID: d0c0ffee0001
Revises: b7d3c91e5a24
Create Date: 2026-12-02 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'd0c0ffee0001'
down_revision = 'b7d3c91e5a24'
branch_labels = None
depends_on = None

VERSIONED_TABLES = (
    'users',
    'organisations',
    'academic_month_editions',
    'salon_series',
    'events',
    'event_people',
    'program_applications',
    'expert_profiles',
)


def upgrade():
    for table in VERSIONED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    for table in reversed(VERSIONED_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
