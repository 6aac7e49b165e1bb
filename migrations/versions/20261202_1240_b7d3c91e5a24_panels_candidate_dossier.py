"""panels: the candidate's dossier (candidates schema version 3)

The new columns of candidates.parquet version 3 (abstract, citations with the world flags,
the citing side, journal tier and warning, links, funders, admission, stratum level...) as one
JSON column. Rounds imported before have an empty dossier.

Revision ID: b7d3c91e5a24
Revises: f9236f19d09e
Create Date: 2026-12-02 12:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'b7d3c91e5a24'
down_revision = 'f9236f19d09e'
branch_labels = None
depends_on = None


def upgrade():
    # A temporary server default fills the existing rows; the model has none.
    with op.batch_alter_table('selection_candidates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dossier', sa.JSON(), nullable=False, server_default='{}'))

    with op.batch_alter_table('selection_candidates', schema=None) as batch_op:
        batch_op.alter_column('dossier', server_default=None)


def downgrade():
    with op.batch_alter_table('selection_candidates', schema=None) as batch_op:
        batch_op.drop_column('dossier')
