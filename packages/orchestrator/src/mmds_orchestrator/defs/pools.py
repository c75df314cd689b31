"""Names shared by the stages' definitions."""

# One DuckDB file, one writer: every step that opens a DuckDB file of the data dir (warehouse,
# serving file) claims the single slot of this pool.
WAREHOUSE_POOL = "warehouse"
