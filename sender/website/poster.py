"""The A4 poster the CMA prints and hands out: « Inscrivez-vous par WhatsApp », with the QR code
of the click-to-chat link (`alerte-message affiche`). One self-contained HTML page (its style
inline, no image file, no script) that prints on one A4 sheet."""

from __future__ import annotations

from html import escape

from sender.website.whatsapp import SignupLink

_STYLE = """
@page { size: A4; margin: 14mm; }
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #111; line-height: 1.3; }
main { width: 182mm; height: 266mm; overflow: hidden; display: flex; flex-direction: column;
       align-items: center; text-align: center; }
h1 { font-size: 30pt; margin: 4mm 0 1mm; color: #00366b; }
.sous-titre { font-size: 14pt; margin: 0 0 6mm; }
.appel { font-size: 20pt; font-weight: bold; margin: 0 0 4mm; }
.qr svg { width: 95mm; height: 95mm; display: block; margin: 0 auto; }
ol { text-align: left; font-size: 14pt; margin: 6mm auto 4mm; padding-left: 8mm; max-width: 160mm; }
li { margin: 1.5mm 0; }
.numero { font-size: 16pt; margin: 2mm 0; }
.petit { font-size: 11pt; margin: 2mm 0; }
.partenaires { margin-top: auto; font-size: 11pt; border-top: 1px solid #999; padding-top: 3mm;
               width: 100%; }
"""


def poster_html(link: SignupLink, *, site_url: str) -> str:
    """The poster's HTML (French)."""
    number = escape(link.shown)
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Alerte Message – inscription par WhatsApp</title>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1>Alerte Message</h1>
<p class="sous-titre">Le réseau d’alerte des artisans et commerçants de la Lozère</p>
<p class="appel">Inscrivez-vous en une minute, par WhatsApp</p>
<div class="qr">{link.qr}</div>
<ol>
<li>Scannez ce code avec l’appareil photo de votre téléphone.</li>
<li>WhatsApp s’ouvre avec le message «\u00a0{escape(link.word)}\u00a0»\u00a0: envoyez-le.</li>
<li>Répondez aux quatre questions (nom, entreprise, activité, commune), puis «\u00a0OUI\u00a0».</li>
</ol>
<p class="numero">Sans code QR\u00a0: envoyez «\u00a0{escape(link.word)}\u00a0» au
<strong>{number}</strong></p>
<p class="petit">Gratuit. Vous recevez les alertes de la police et de la gendarmerie sur ce
numéro. Pour arrêter à tout moment, envoyez STOP.</p>
<p class="petit">Par le formulaire\u00a0: {escape(site_url.rstrip('/'))}/inscription/</p>
<p class="partenaires">CMA de la Lozère · Police nationale · Gendarmerie nationale ·
Préfecture de la Lozère</p>
</main>
</body>
</html>
"""
