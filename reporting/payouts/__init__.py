"""Payout periods, the statements they issue (frozen, emailed as PDF) and the payouts that settle them."""
