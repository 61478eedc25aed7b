"""Logs, metrics and health: what an operator sees of the daemons."""
