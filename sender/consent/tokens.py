"""Signed confirmation links (`/confirmer?jeton=…`): who may confirm what, until when.

A token reads `<kind>.<ref>.<number>.<expires>.<signature>`:

- `kind`: `i` for a sign-up, `d` for an unsubscription request;
- `ref`: the sign-up's `id`, or a short digest of the unsubscription request's `horodatage`;
- `number`: a keyed digest of the E.164 number the message went to, so a token stops working
  when the row's number is changed and never reveals the number (URLs end up in logs);
- `expires`: Unix time, base 36;
- `signature`: HMAC-SHA256 of the rest with the secret, base64url, 128 bits.

Only characters safe in a URL and in a WhatsApp button payload are used. Single use is enforced
by the register (`confirme_le` is written once), not by the token.

The secret comes from ALERTE_SECRET, or from a file generated in the data folder with mode 0600
the first time it is needed (the confirmation page and the sender must share it).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sender.config import Settings
from sender.errors import AlerteError, ConfigurationError
from sender.storage import PRIVATE_FILE, private_dir

INSCRIPTION: Final = "inscription"
DESINSCRIPTION: Final = "desinscription"
_KIND_LETTERS: Final = {INSCRIPTION: "i", DESINSCRIPTION: "d"}
_LETTER_KINDS: Final = {v: k for k, v in _KIND_LETTERS.items()}
_SIGNATURE_LENGTH: Final = 22  # base64url characters: 132 bits
_MIN_SECRET: Final = 32
MAX_TOKEN_LENGTH: Final = 120


class TokenInvalid(AlerteError):
    """The text is not a token this site signed (typed wrong, cut, forged, or another secret)."""


class TokenExpired(AlerteError):
    """A genuine token whose validity has ended."""

    def __init__(self, message: str, token: Token) -> None:
        super().__init__(message)
        self.token = token


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # INSCRIPTION or DESINSCRIPTION
    ref: str
    number: str  # keyed digest of the E.164 number
    expires: int  # Unix seconds


def _mac(secret: bytes, text: str) -> bytes:
    return hmac.new(secret, text.encode("ascii"), hashlib.sha256).digest()


def number_digest(secret: bytes, numero: str) -> str:
    """A keyed digest of an E.164 number: equal numbers give equal digests, nothing more."""
    return hmac.new(secret, b"numero:" + numero.encode("utf-8"), hashlib.sha256).hexdigest()[:12]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def sign(secret: bytes, kind: str, ref: str, numero: str, expires: float) -> str:
    """The token for request `ref` of `kind`, sent to `numero`, valid until `expires`."""
    if kind not in _KIND_LETTERS or not ref or "." in ref:
        raise ValueError(f"demande de confirmation impossible à signer : {kind!r} {ref!r}")
    payload = ".".join(
        (_KIND_LETTERS[kind], ref, number_digest(secret, numero), _base36(int(expires)))
    )
    signature = base64.urlsafe_b64encode(_mac(secret, payload)).decode("ascii")
    return f"{payload}.{signature[:_SIGNATURE_LENGTH]}"


_INVALID = (
    "Ce lien de confirmation n'est pas valable : il a peut-être été coupé ou mal recopié. "
    "Ouvrez-le de nouveau depuis le message reçu, en entier."
)


def verify(secret: bytes, text: str, now: float) -> Token:
    """The token `text` stands for; raises TokenInvalid, or TokenExpired after its end."""
    text = (text or "").strip()
    parts = text.split(".")
    if len(text) > MAX_TOKEN_LENGTH or len(parts) != 5 or not text.isascii():
        raise TokenInvalid(_INVALID)
    letter, ref, number, expires_text, signature = parts
    expected = base64.urlsafe_b64encode(_mac(secret, ".".join(parts[:4]))).decode("ascii")
    if not hmac.compare_digest(expected[:_SIGNATURE_LENGTH], signature):
        raise TokenInvalid(_INVALID)
    try:
        expires = int(expires_text, 36)
    except ValueError as exc:  # signed by us, so never happens unless the secret leaked
        raise TokenInvalid(_INVALID) from exc
    if letter not in _LETTER_KINDS:
        raise TokenInvalid(_INVALID)
    token = Token(_LETTER_KINDS[letter], ref, number, expires)
    if now > expires:
        raise TokenExpired(
            "Ce lien de confirmation a expiré : rien n'a été changé.", token
        )
    return token


# -- the secret -----------------------------------------------------------------------------


def load_secret(settings: Settings) -> bytes:
    """ALERTE_SECRET, or the secret file of the data folder (created, mode 0600, if absent)."""
    if settings.secret:
        if len(settings.secret) < _MIN_SECRET:
            raise ConfigurationError(
                f"ALERTE_SECRET est trop court : {_MIN_SECRET} caractères au moins (par exemple "
                "le résultat de « python3 -c 'import secrets; print(secrets.token_urlsafe(48))' »)."
            )
        return settings.secret.encode("utf-8")
    return _secret_file(settings.secret_path)


def _secret_file(path: Path) -> bytes:
    """Read the secret file, or create it atomically (written aside, then linked into place, so
    a concurrent reader never sees it half written)."""
    if path.exists():
        return _read_secret(path)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        private_dir(path.parent)
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):  # another process was first: use theirs
            os.link(draft, path)
    except OSError as exc:
        raise ConfigurationError(
            f"Impossible de créer le fichier secret {path} ({exc.strerror or type(exc).__name__}) "
            ": définissez ALERTE_SECRET ou vérifiez les droits du dossier."
        ) from exc
    finally:
        draft.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        text = path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"Le fichier secret {path} est illisible : définissez ALERTE_SECRET ou supprimez "
            "ce fichier pour qu'il soit recréé (les liens de confirmation déjà envoyés ne "
            "marcheront plus)."
        ) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"Le fichier secret {path} est lisible par d'autres comptes : « chmod 600 {path} »."
        )
    if len(text) < _MIN_SECRET:
        raise ConfigurationError(
            f"Le fichier secret {path} est trop court : supprimez-le pour qu'il soit recréé."
        )
    return text.encode("ascii")
