"""The customer database: models, queries and services.

This package knows nothing of Gmail or job queues. Every service takes a SQLAlchemy
``Session`` and never commits: the caller owns the transaction.
"""
