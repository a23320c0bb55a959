"""Postmortem drafts from the timeline, stored with versions; the review reminder."""
