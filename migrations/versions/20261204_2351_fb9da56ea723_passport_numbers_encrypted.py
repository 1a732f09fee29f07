"""Passport numbers encrypted by the application: their columns become text (a ciphertext is
longer than the 20 characters of a number). Numbers already there stay as they were and are read
as they are; `crm keys rotate` encrypts them.

Revision ID: fb9da56ea723
Revises: 186d23cedae0
Create Date: 2026-12-04 23:51:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fb9da56ea723'
down_revision = '186d23cedae0'
branch_labels = None
depends_on = None

COLUMNS = (("travel_plans", "passport_number"), ("travel_companions", "passport_number"))


def upgrade():
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.VARCHAR(length=20), type_=sa.Text(),
                                  existing_nullable=False)


def downgrade():
    # back to 20 characters: the numbers are decrypted first (a ciphertext would not fit)
    from crm.services import crypto

    connection = op.get_bind()
    for table, column in COLUMNS:
        rows = sa.table(table, sa.column("id"), sa.column(column))
        for row_id, value in connection.execute(sa.select(rows.c.id, rows.c[column])).all():
            plain = crypto.decrypt_text_or_plain(value or "", f"{table}.{column}")
            if plain != value:
                connection.execute(rows.update().where(rows.c.id == row_id).values({column: plain}))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.VARCHAR(length=20),
                                  existing_nullable=False)
