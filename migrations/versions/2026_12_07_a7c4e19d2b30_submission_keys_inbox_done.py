"""One tap, one record and an inbox that reflects the case (issue 14.1, 14.3, 14.4): the forms'
submission keys; inbox items' priority (urgent and emergency leads) and who dealt with them.
Items already open on closed, archived or declined cases are marked done (by the system).
Written by hand.

Revision ID: a7c4e19d2b30
Revises: f13a5c7e9b02
Create Date: 2026-12-07 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from mediation.timeutil import utcnow

# revision identifiers, used by Alembic.
revision = 'a7c4e19d2b30'
down_revision = 'a4c2e6f81d30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'submission_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('target', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_submission_key_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_key')),
        sa.UniqueConstraint('user_id', 'key', name='uq_submission_key_user_id_key'),
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('done_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('done_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_notification_done_by_id_user_account'), 'user_account',
                                    ['done_by_id'], ['id'], ondelete='SET NULL')

    now = utcnow()  # the app's clock (naive UTC), not the database's
    notification = sa.table('notification', sa.column('case_id', sa.Integer), sa.column('read_at', sa.DateTime),
                            sa.column('done_at', sa.DateTime))
    case_record = sa.table('case_record', sa.column('id', sa.Integer), sa.column('status', sa.String))
    finished = sa.select(case_record.c.id).where(case_record.c.status.in_(['closed', 'archived', 'declined']))
    op.execute(notification.update().where(notification.c.case_id.in_(finished), notification.c.done_at.is_(None))
               .values(done_at=now, read_at=sa.func.coalesce(notification.c.read_at, now)))


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notification_done_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('done_by_id')
        batch_op.drop_column('done_at')
        batch_op.drop_column('priority')
    op.drop_table('submission_key')
