"""Delivery truth: what WhatsApp's status webhooks and members' messages tell the sender."""
