"""Stage 2 of the cascade: a small transformer encoder behind the linear model."""
