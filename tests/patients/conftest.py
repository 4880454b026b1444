"""The account-lifecycle tests' fixtures."""

from tests.accounts.lifecycle_helpers import sends  # noqa: F401
