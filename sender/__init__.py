"""Alerte Message: register, cleaning and alert dispatch for the Lozère artisans' alert network."""

__version__ = "0.1.0"
