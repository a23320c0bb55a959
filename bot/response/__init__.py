"""The guide's response clock: step budgets nudged once when overdue, and status-update reminders, as database timer rows."""
