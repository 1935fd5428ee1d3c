"""Is the sender alive? The heartbeat file `surveiller` keeps in the data folder, the push pings
of an uptime monitor (`ALERTE_PING_URL`), systemd's watchdog, and the report `/sante` answers
(`servir` and `surveiller` may be separate processes: they share the heartbeat file)."""
