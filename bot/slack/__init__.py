"""Slack adapter: the WebClient factory, the ports implemented on Slack, and Block Kit rendering."""
