"""Local emulators of the external services (Google Sheets, WhatsApp Cloud API, SMS gateway)."""
