"""Test-only views and a model that exercise the protocol core the way a module app would."""
