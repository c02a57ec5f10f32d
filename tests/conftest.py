"""Shared fixtures live in tests/fixtures/, one module per real part."""

pytest_plugins = [
    "tests.fixtures.system",
    "tests.fixtures.scenario",
    "tests.fixtures.stores",
]
