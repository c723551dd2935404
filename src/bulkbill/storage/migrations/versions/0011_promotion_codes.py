"""Promotion codes (Stripe's promo_), the code a discount was redeemed with, coupon applies_to and currency_options

Revision ID: 0011_promotion_codes
Revises: 0010_credit_notes
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_promotion_codes"
down_revision: str | tuple[str, ...] | None = "0010_credit_notes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "promotion_codes",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(length=500), nullable=False),
        sa.Column("coupon_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("times_redeemed", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("restrictions", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "coupon_id"],
            ["coupons.tenant_id", "coupons.id"],
            name=op.f("fk_promotion_codes_tenant_id_coupon_id_coupons"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_promotion_codes")),
    )
    op.create_index("ix_promotion_codes_tenant_code", "promotion_codes", ["tenant_id", "code"])
    op.add_column("discounts", sa.Column("promotion_code_id", ID, nullable=True))
    op.add_column("coupons", sa.Column("applies_to", sa.JSON(), nullable=True))
    op.add_column("coupons", sa.Column("currency_options", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("coupons", "currency_options")
    op.drop_column("coupons", "applies_to")
    op.drop_column("discounts", "promotion_code_id")
    op.drop_index("ix_promotion_codes_tenant_code", table_name="promotion_codes")
    op.drop_table("promotion_codes")
