"""Test support shared across the project's suites (the Kannel harness lives in `kannel`)."""
