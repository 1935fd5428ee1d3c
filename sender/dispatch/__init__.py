"""Dispatch: the per-recipient journal, the daily limit and the concurrent dispatcher."""
