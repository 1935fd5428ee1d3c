"""What the HTTP channels (WhatsApp, SMS) share: a connection pool and one POST attempt whose
network failures become French errors that say whether the request may have been accepted.

- the request never left (connection refused, connect timeout…): `RetryableError`, sent again
  by `Channel.deliver` — the provider cannot have acted on it;
- the request left and its answer was lost (timeout while waiting, connection cut):
  `UncertainError`, never repeated blindly (see `dispatch/decisions.py`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sender.channels.base import Channel, RetryableError, UncertainError
from sender.channels.pool import AnswerLost, ConnectionPool, HttpAnswer, NotSent

log = logging.getLogger(__name__)


class HttpChannel(Channel):
    """A channel that POSTs JSON to one URL. `service` names the provider in French messages."""

    service = "le service"

    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        *,
        pool_size: int = 64,
        **base_kwargs: Any,
    ) -> None:
        super().__init__(**base_kwargs)
        self.url = url
        self._headers = headers
        self.pool = ConnectionPool(url, size=pool_size, timeout=self.timeout)

    def _post(self, payload: dict[str, Any], masked: str) -> tuple[HttpAnswer, Any]:
        """One POST; returns the answer and its JSON body (None when not JSON)."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            answer = self.pool.post(body, self._headers)
        except NotSent as exc:
            log.warning("%s : requête non partie pour %s (%s)", self.name, masked, exc)
            raise RetryableError(
                f"La connexion à {self.service} a échoué avant l'envoi de la demande : nouvel "
                "essai.",
                code="connexion",
            ) from None
        except AnswerLost as exc:
            log.warning("%s : réponse perdue pour %s (%s)", self.name, masked, exc)
            service = self.service[:1].upper() + self.service[1:]
            raise UncertainError(
                f"{service} n'a pas répondu (délai de {self.timeout:g} s dépassé ou connexion "
                "coupée) après avoir reçu la demande : le message est peut-être parti, il n'est "
                "pas renvoyé à l'aveugle.",
                code="reponse_perdue",
            ) from None
        return answer, answer.json()

    def close(self) -> None:
        self.pool.close()
