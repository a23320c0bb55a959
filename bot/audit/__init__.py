"""The audit log: who ran what, where, when, and how it ended (the guide demands a complete record)."""
