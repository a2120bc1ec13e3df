"""Payout runs: finance picks issued statements, sees who can be paid and how, and pays them exactly once."""
