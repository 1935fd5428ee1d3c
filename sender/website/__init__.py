"""What the public site takes from the code at build time (used by pelicanconf.py).

- `details`: the CMA's legal and contact details, one settings block, checked before a
  production build;
- `blocks`: the `blocs` Jinja filter that replaces markers in pages (contact block, alert types,
  example alert, figures);
- `example`: the example alert, composed by the sender's own templates;
- `pictograms`: our inline SVG pictograms.
"""
