"""Shared domain utilities: phone numbers (E.164 through phonenumbers) and the communes of
Lozère."""
