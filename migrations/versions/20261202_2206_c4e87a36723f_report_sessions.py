"""report sessions (conference_app.report_sessions): sessions (one-to-one with events), their
timetable slots, invitations with a live-invitation unique index per talk and per e-mail, and the
released programme versions

Revision ID: c4e87a36723f
Revises: ed1225ac9124
Create Date: 2026-12-02 22:06:22.686383
"""

import sqlalchemy as sa
from alembic import op

revision = 'c4e87a36723f'
down_revision = 'ed1225ac9124'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('edition_id', sa.Integer(), nullable=False),
    sa.Column('panel_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('moderator_name', sa.String(length=100), nullable=True),
    sa.Column('moderator_institution', sa.String(length=200), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_report_sessions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['edition_id'], ['academic_month_editions.id'], name=op.f('fk_report_sessions_edition_id_academic_month_editions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_report_sessions_event_id_events'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['panel_id'], ['panels.id'], name=op.f('fk_report_sessions_panel_id_panels'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['project_id'], ['program_applications.id'], name=op.f('fk_report_sessions_project_id_program_applications'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_sessions')),
    sa.UniqueConstraint('event_id', name=op.f('uq_report_sessions_event_id'))
    )
    with op.batch_alter_table('report_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_sessions_edition_id'), ['edition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_sessions_panel_id'), ['panel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_sessions_project_id'), ['project_id'], unique=False)

    op.create_table('report_session_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('candidate_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['selection_candidates.id'], name=op.f('fk_report_session_slots_candidate_id_selection_candidates'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['report_sessions.id'], name=op.f('fk_report_session_slots_session_id_report_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_session_slots')),
    sa.UniqueConstraint('session_id', 'candidate_id', name='uq_report_session_slot_result')
    )
    with op.batch_alter_table('report_session_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_session_slots_session_id'), ['session_id'], unique=False)

    op.create_table('report_session_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('programme', sa.JSON(), nullable=False),
    sa.Column('notified', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_report_session_versions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['report_sessions.id'], name=op.f('fk_report_session_versions_session_id_report_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_session_versions')),
    sa.UniqueConstraint('session_id', 'number', name='uq_report_session_version')
    )
    op.create_table('report_session_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=True),
    sa.Column('candidate_id', sa.Integer(), nullable=True),
    sa.Column('author_index', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('institution', sa.String(length=300), nullable=True),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attendance', sa.String(length=20), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('token_nonce', sa.String(length=32), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.Column('last_reminded_at', sa.DateTime(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answer_note', sa.Text(), nullable=True),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['selection_candidates.id'], name=op.f('fk_report_session_invitations_candidate_id_selection_candidates'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_report_session_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['report_sessions.id'], name=op.f('fk_report_session_invitations_session_id_report_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['slot_id'], ['report_session_slots.id'], name=op.f('fk_report_session_invitations_slot_id_report_session_slots'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_report_session_invitations_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_session_invitations'))
    )
    with op.batch_alter_table('report_session_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_session_invitations_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_session_invitations_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_report_invitation_live_email', ['session_id', 'email'], unique=True, sqlite_where=sa.text("status IN ('invited', 'accepted')"), postgresql_where=sa.text("status IN ('invited', 'accepted')"))
        batch_op.create_index('uq_report_invitation_live_slot', ['slot_id'], unique=True, sqlite_where=sa.text("status IN ('invited', 'accepted')"), postgresql_where=sa.text("status IN ('invited', 'accepted')"))


def downgrade():
    with op.batch_alter_table('report_session_invitations', schema=None) as batch_op:
        batch_op.drop_index('uq_report_invitation_live_slot', sqlite_where=sa.text("status IN ('invited', 'accepted')"), postgresql_where=sa.text("status IN ('invited', 'accepted')"))
        batch_op.drop_index('uq_report_invitation_live_email', sqlite_where=sa.text("status IN ('invited', 'accepted')"), postgresql_where=sa.text("status IN ('invited', 'accepted')"))
        batch_op.drop_index(batch_op.f('ix_report_session_invitations_user_id'))
        batch_op.drop_index(batch_op.f('ix_report_session_invitations_session_id'))

    op.drop_table('report_session_invitations')
    op.drop_table('report_session_versions')
    with op.batch_alter_table('report_session_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_session_slots_session_id'))

    op.drop_table('report_session_slots')
    with op.batch_alter_table('report_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_sessions_project_id'))
        batch_op.drop_index(batch_op.f('ix_report_sessions_panel_id'))
        batch_op.drop_index(batch_op.f('ix_report_sessions_edition_id'))

    op.drop_table('report_sessions')
