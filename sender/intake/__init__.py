"""Intake of the public forms: validation, WSGI application and waitress server.

- `validation.validate_signup(form)`, `validation.validate_unsubscribe(form)` → `FormOutcome`
  (pure);
- `app.create_app(register_factory, site_dir, templates_dir, ...)` → WSGI application;
- `server.make_server(app, host, port)` → `IntakeServer` (`.run()`, `.close()`, `.port`, `.url`);
- `server.serve(settings, host, port, site_dir, templates_dir)` → blocks until Ctrl-C.
"""
