"""Warroom core: settings, data, incidents, escalation, paging, diagnostics, postmortem and the Slack emulator."""

__version__ = "0.1.0"
