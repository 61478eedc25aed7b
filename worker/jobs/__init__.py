"""Dramatiq jobs: the broker, the actors and their transaction boundaries."""
