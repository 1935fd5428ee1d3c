"""Intake of the public forms and of Meta's webhook: validation, WSGI application and waitress
server.

- `validation.validate_signup(form)`, `validation.validate_unsubscribe(form)` → `FormOutcome`
  (pure);
- `origin.is_cross_site(environ, site_url)`: posts from another site are refused;
- `confirmation`: the `/confirmer` page (a button; its post confirms the request);
- `app.create_app(register_factory, site_dir, templates_dir, ..., webhook=...)` → WSGI
  application; `app.webhook_for(settings)` → the WhatsApp webhook (`webhook.py`) it serves at
  `/webhooks/whatsapp`;
- `server.make_server(app, host, port, trusted_proxy=..., per_address=...)` → `IntakeServer`
  (`.run()`, `.close()`, `.port`, `.url`); `server.make_app(settings, ...)`, `server.serve(...)`;
- `appsscript.source()`: the rules of the Apps Script intake (`apps-script/generated.gs`).
"""
