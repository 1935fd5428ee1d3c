"""Intake of the public forms: validation, WSGI application and waitress server.

- `validation.validate_signup(form)`, `validation.validate_unsubscribe(form)` → `FormOutcome`
  (pure);
- `origin.is_cross_site(environ, site_url)`: posts from another site are refused;
- `confirmation`: the `/confirmer` page (a button; its post confirms the request);
- `app.create_app(register_factory, site_dir, templates_dir, ...)` → WSGI application;
- `server.make_server(app, host, port, trusted_proxy=...)` → `IntakeServer` (`.run()`,
  `.close()`, `.port`, `.url`); `server.make_app(settings, ...)`, `server.serve(...)`;
- `appsscript.source()`: the rules of the Apps Script intake (`apps-script/generated.gs`).
"""
