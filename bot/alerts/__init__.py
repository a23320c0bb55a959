"""Alerts in from monitoring (SPEC §10): parse, authenticate, store, route, fold and open incidents."""
