"""Webhooks (issue 17): subscriptions, their signed deliveries from the change feed, the log."""
