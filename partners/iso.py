"""Moved to core.iso and core.currency (issue 12): kept only while modules still import it from here."""

from core.iso import COUNTRIES, COUNTRY_CODES, COUNTRY_NAMES, CURRENCIES

__all__ = ["COUNTRIES", "COUNTRY_CODES", "COUNTRY_NAMES", "CURRENCIES"]
