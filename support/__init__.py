"""Test and benchmark support: local emulators of Google Sheets, WhatsApp and the SMS gateway,
scenario builders and data sets. Used by `tests/` and `bench/`; never by `sender/`."""
