"""Alerts: checking an `Alertes` row, choosing recipients, composing the message.

All functions here are pure (no I/O, no clock): the caller passes rows, members and `now`.
`rules.check_alert` decides on a row, `targeting.select_recipients` chooses the members and
`compose.Composer` renders the message from the `Modeles` tab.
"""
