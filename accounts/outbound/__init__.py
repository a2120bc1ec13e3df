"""Signed outbound webhooks: the workspace's endpoints hear what happens in Tandem (Standard Webhooks).

Other apps call `accounts.outbound.events.emit_event` (or `emit_events` for a batch) inside the
transaction that made the change; deliveries are sent after commit by Celery, retried on Svix's
schedule, and signed with the endpoint's `whsec_` secret.
"""
