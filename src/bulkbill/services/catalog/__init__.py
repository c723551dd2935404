"""The catalog: products, prices, tax rates, coupons and the discounts they give."""
