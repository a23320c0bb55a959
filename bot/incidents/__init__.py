"""Incidents: models, lifecycle service, timeline, and the declare flow."""
