"""The local journal: one row per recipient of each dispatch, its states, and the reference
WhatsApp echoes in status webhooks. Dispatch and delivery both use it."""
