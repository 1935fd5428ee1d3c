"""Intake of the public forms: validation, WSGI application and waitress server.

Public API:
- `validate_signup(form)`, `validate_unsubscribe(form)` → `FormOutcome` (pure);
- `create_app(register_factory, site_dir, templates_dir, ...)` → WSGI application;
- `make_server(app, host, port)` → `IntakeServer` (`.run()`, `.close()`, `.port`, `.url`);
- `serve(settings, host, port, site_dir, templates_dir)` → blocks until Ctrl-C.
"""

from sender.intake.app import IntakeApp, create_app
from sender.intake.server import IntakeServer, make_server, serve
from sender.intake.validation import (
    FormOutcome,
    SignupOutcome,
    UnsubscribeOutcome,
    validate_signup,
    validate_unsubscribe,
)

__all__ = [
    "FormOutcome",
    "IntakeApp",
    "IntakeServer",
    "SignupOutcome",
    "UnsubscribeOutcome",
    "create_app",
    "make_server",
    "serve",
    "validate_signup",
    "validate_unsubscribe",
]
