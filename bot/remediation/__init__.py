"""Remediation (`/remediate`): previewed, confirmed, signed, single-use changes to infrastructure."""
