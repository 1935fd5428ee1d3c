"""Intake of the public forms and of Meta's webhook: validation, WSGI application and waitress
server.

- `validation.validate_signup(form)`, `validation.validate_unsubscribe(form)` → `FormOutcome`
  (pure);
- `app.create_app(register_factory, site_dir, templates_dir, ..., webhook=...)` → WSGI
  application; `app.webhook_for(settings)` → the WhatsApp webhook (`webhook.py`) it serves at
  `/webhooks/whatsapp`;
- `server.make_server(app, host, port)` → `IntakeServer` (`.run()`, `.close()`, `.port`, `.url`);
- `server.serve(settings, host, port, site_dir, templates_dir)` → blocks until Ctrl-C.
"""
