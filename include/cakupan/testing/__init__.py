"""Test helpers shipped with the package so every test folder can reuse them (no test-only imports needed)."""
