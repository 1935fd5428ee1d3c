"""The register: tabs of rows with French headers, behind one interface and two backends."""

from sender.register.base import CellChange, Register, Row, Table
from sender.register.factory import open_register

__all__ = ["CellChange", "Register", "Row", "Table", "open_register"]
