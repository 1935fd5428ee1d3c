"""Consent proven by the phone itself: signed confirmation links, the requests waiting for them,
the confirmation messages, and what following a link (or tapping the WhatsApp button) does."""
