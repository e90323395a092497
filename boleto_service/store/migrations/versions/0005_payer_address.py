"""The payer's address on every boleto, which a bank needs to register it (segment Q).

Expand only: the columns default to empty, which is what an older replica writes and what a
boleto from a file without address columns has; such a boleto stays out of remessas.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("payer_address", 200),
    ("payer_district", 100),
    ("payer_zip_code", 8),
    ("payer_city", 100),
    ("payer_state", 2),
)


def upgrade() -> None:
    with op.batch_alter_table("boletos", schema=None) as batch_op:
        for name, width in _COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.String(width), server_default="", nullable=False)
            )


def downgrade() -> None:
    with op.batch_alter_table("boletos", schema=None) as batch_op:
        for name, _width in reversed(_COLUMNS):
            batch_op.drop_column(name)
