"""Insight from the mail: templates of outbound mail and the sentiment of inbound mail.

Both are computed when a message is stored (``stored.insight_columns``) and read by
aggregate queries (``reports``); ``backfill`` scores messages stored before.
"""
