"""The integrations: Stripe and HubSpot webhooks and their settings, CSV import, and their pages and API.

Models live in models.py, which attribution/models/__init__.py imports so Django registers them under the
attribution app; the package itself imports nothing, so that import stays cheap and cycle-free."""
