"""Block Kit rendering: pure functions from domain snapshots to (fallback text, blocks)."""
