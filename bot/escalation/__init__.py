"""Escalation: the ladder as rows, the tick that walks it, acks that stop it."""
