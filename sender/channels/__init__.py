"""Channels: WhatsApp Cloud API, SMS gateway and the local outbox."""
