"""Bringing mail in from files: Google Takeout mailbox exports."""
