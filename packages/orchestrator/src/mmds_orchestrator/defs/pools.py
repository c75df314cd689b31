"""Names shared by the stages' definitions."""

# One DuckDB file, one writer: every step that opens a DuckDB file of the data dir (warehouse,
# asset hand-off) claims the single slot of this pool.
WAREHOUSE_POOL = "warehouse"
