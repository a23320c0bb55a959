"""Test support: real services started for the tests (moto, a Kubernetes API stand-in, Docker)."""
