"""Events, salon series, registrations, check-ins, influence rounds, API tokens.

The facts the programs evaluate: Academic Month editions, events with their organisations
and people, brand salon series with their topic proposals, registrations (one live
registration per phone and per e-mail and event: partial unique indexes) and check-ins
(one per registration); the Top-10 influential conference rounds; per-user API tokens.

Revision ID: 883e021cc299
Revises: db08f48d2039
Create Date: 2026-12-01 22:16:19.844870
"""

import sqlalchemy as sa
from alembic import op


revision = '883e021cc299'
down_revision = 'db08f48d2039'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('academic_month_editions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_academic_month_editions')),
    sa.UniqueConstraint('number', name=op.f('uq_academic_month_editions_number'))
    )
    op.create_table('influence_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('winners', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_influence_rounds')),
    sa.UniqueConstraint('year', name=op.f('uq_influence_rounds_year'))
    )
    op.create_table('salon_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title_zh', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('topic_mechanism', sa.Text(), nullable=False),
    sa.Column('committee', sa.Text(), nullable=True),
    sa.Column('venue', sa.String(length=300), nullable=True),
    sa.Column('district', sa.String(length=20), nullable=True),
    sa.Column('sessions_target', sa.Integer(), nullable=False),
    sa.Column('person_times_target', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_salon_series_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_series')),
    sa.UniqueConstraint('organisation_id', 'year', 'title_zh', name='uq_salon_series_title')
    )
    with op.batch_alter_table('salon_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_salon_series_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('influence_reviewers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['influence_rounds.id'], name=op.f('fk_influence_reviewers_round_id_influence_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_influence_reviewers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_influence_reviewers')),
    sa.UniqueConstraint('round_id', 'user_id', name='uq_influence_reviewer')
    )
    with op.batch_alter_table('influence_reviewers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_influence_reviewers_user_id'), ['user_id'], unique=False)

    op.create_table('salon_topic_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=True),
    sa.Column('proposed_by', sa.String(length=200), nullable=False),
    sa.Column('proposed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_by', sa.String(length=500), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['proposed_by_user_id'], ['users.id'], name=op.f('fk_salon_topic_proposals_proposed_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['series_id'], ['salon_series.id'], name=op.f('fk_salon_topic_proposals_series_id_salon_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salon_topic_proposals'))
    )
    with op.batch_alter_table('salon_topic_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_salon_topic_proposals_series_id'), ['series_id'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('title_zh', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=400), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('agenda', sa.Text(), nullable=True),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('edition_id', sa.Integer(), nullable=True),
    sa.Column('venue', sa.String(length=300), nullable=True),
    sa.Column('in_beijing', sa.Boolean(), nullable=False),
    sa.Column('district', sa.String(length=20), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('online_url', sa.String(length=500), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('registration_open', sa.Boolean(), nullable=False),
    sa.Column('discipline', sa.String(length=40), nullable=True),
    sa.Column('filing_status', sa.String(length=20), nullable=False),
    sa.Column('filing_document_path', sa.String(length=300), nullable=True),
    sa.Column('filing_document_name', sa.String(length=255), nullable=True),
    sa.Column('filing_approved_at', sa.DateTime(), nullable=True),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('core_topic', sa.String(length=300), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_events_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['edition_id'], ['academic_month_editions.id'], name=op.f('fk_events_edition_id_academic_month_editions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['series_id'], ['salon_series.id'], name=op.f('fk_events_series_id_salon_series'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['topic_id'], ['salon_topic_proposals.id'], name=op.f('fk_events_topic_id_salon_topic_proposals'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_discipline'), ['discipline'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_district'), ['district'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_edition_id'), ['edition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_series_id'), ['series_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_status'), ['status'], unique=False)

    op.create_table('event_organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_organisations_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_event_organisations_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_organisations')),
    sa.UniqueConstraint('event_id', 'organisation_id', name='uq_event_organisation')
    )
    with op.batch_alter_table('event_organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_organisations_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_organisations_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('event_people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=100), nullable=True),
    sa.Column('is_leading_figure', sa.Boolean(), nullable=False),
    sa.Column('leading_reason', sa.String(length=500), nullable=True),
    sa.Column('talk_title', sa.String(length=300), nullable=True),
    sa.Column('talk_minutes', sa.Integer(), nullable=True),
    sa.Column('on_site', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_people_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_people'))
    )
    with op.batch_alter_table('event_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_people_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_people_name'), ['name'], unique=False)

    op.create_table('event_registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('promoted_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_registrations_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_registrations')),
    sa.UniqueConstraint('code', name=op.f('uq_event_registrations_code'))
    )
    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.create_index('ix_registration_event_status', ['event_id', 'status', 'id'], unique=False)
        batch_op.create_index('uq_registration_event_email', ['event_id', 'email'], unique=True, sqlite_where=sa.text("status != 'cancelled'"), postgresql_where=sa.text("status != 'cancelled'"))
        batch_op.create_index('uq_registration_event_phone', ['event_id', 'phone'], unique=True, sqlite_where=sa.text("status != 'cancelled'"), postgresql_where=sa.text("status != 'cancelled'"))

    op.create_table('influence_nominations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_influence_nominations_event_id_events'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['influence_rounds.id'], name=op.f('fk_influence_nominations_round_id_influence_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_influence_nominations')),
    sa.UniqueConstraint('round_id', 'event_id', name='uq_influence_nomination')
    )
    with op.batch_alter_table('influence_nominations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_influence_nominations_event_id'), ['event_id'], unique=False)

    op.create_table('event_checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['by_user_id'], ['users.id'], name=op.f('fk_event_checkins_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_checkins_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['event_registrations.id'], name=op.f('fk_event_checkins_registration_id_event_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_checkins')),
    sa.UniqueConstraint('registration_id', name='uq_checkin_registration')
    )
    with op.batch_alter_table('event_checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_checkins_event_id'), ['event_id'], unique=False)

    op.create_table('influence_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nomination_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sa.String(length=40), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['nomination_id'], ['influence_nominations.id'], name=op.f('fk_influence_scores_nomination_id_influence_nominations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_influence_scores_reviewer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_influence_scores')),
    sa.UniqueConstraint('nomination_id', 'reviewer_id', 'criterion', name='uq_influence_score')
    )
    with op.batch_alter_table('influence_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_influence_scores_nomination_id'), ['nomination_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_influence_scores_reviewer_id'), ['reviewer_id'], unique=False)



def downgrade():
    with op.batch_alter_table('influence_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_influence_scores_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_influence_scores_nomination_id'))

    op.drop_table('influence_scores')
    with op.batch_alter_table('event_checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_checkins_event_id'))

    op.drop_table('event_checkins')
    with op.batch_alter_table('influence_nominations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_influence_nominations_event_id'))

    op.drop_table('influence_nominations')
    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.drop_index('uq_registration_event_phone', sqlite_where=sa.text("status != 'cancelled'"), postgresql_where=sa.text("status != 'cancelled'"))
        batch_op.drop_index('uq_registration_event_email', sqlite_where=sa.text("status != 'cancelled'"), postgresql_where=sa.text("status != 'cancelled'"))
        batch_op.drop_index('ix_registration_event_status')

    op.drop_table('event_registrations')
    with op.batch_alter_table('event_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_people_name'))
        batch_op.drop_index(batch_op.f('ix_event_people_event_id'))

    op.drop_table('event_people')
    with op.batch_alter_table('event_organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_organisations_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_event_organisations_event_id'))

    op.drop_table('event_organisations')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_status'))
        batch_op.drop_index(batch_op.f('ix_events_starts_at'))
        batch_op.drop_index(batch_op.f('ix_events_series_id'))
        batch_op.drop_index(batch_op.f('ix_events_kind'))
        batch_op.drop_index(batch_op.f('ix_events_edition_id'))
        batch_op.drop_index(batch_op.f('ix_events_district'))
        batch_op.drop_index(batch_op.f('ix_events_discipline'))

    op.drop_table('events')
    with op.batch_alter_table('salon_topic_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_salon_topic_proposals_series_id'))

    op.drop_table('salon_topic_proposals')
    with op.batch_alter_table('influence_reviewers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_influence_reviewers_user_id'))

    op.drop_table('influence_reviewers')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('salon_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_salon_series_organisation_id'))

    op.drop_table('salon_series')
    op.drop_table('influence_rounds')
    op.drop_table('academic_month_editions')
