"""Stripe products, prices, tax rates and coupons."""
