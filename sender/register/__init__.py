"""The register: tabs of rows with French headers, behind one interface and two backends."""

from sender.register.factory import open_register

__all__ = ["open_register"]
