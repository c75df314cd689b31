"""Fixtures every package's tests may use (see each plugin's docstring)."""

pytest_plugins = ["tests.postgres_server"]
