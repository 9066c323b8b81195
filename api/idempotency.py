"""``Idempotency-Key`` on every POST: the first answer to a key is stored with a fingerprint of
the request and given again, unchanged, for every repeat of that key by the same client.

The record is written in the same transaction as the change, so a request that fails (an
exception, a lost connection) leaves no record and may be sent again. Two requests with the same
key at once queue on the record's unique index; the second then receives the first one's answer.
"""

from __future__ import annotations

import hashlib
import json
from functools import wraps

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from api.authentication import client_of
from api.models import IdempotencyRecord
from api.problems import Problem

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.get_full_path().encode())
    digest.update(request.body)
    return digest.hexdigest()


def idempotent(handler):
    """Decorate a view's ``post`` method."""

    @wraps(handler)
    def wrapped(view, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        client = client_of(request)
        if not key or client is None:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise Problem(
                400,
                "idempotency-key-invalid",
                _("The Idempotency-Key header is too long."),
                _("Use at most %(count)d characters, e.g. a UUID.") % {"count": MAX_KEY_LENGTH},
            )
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        client=client, key=key, fingerprint=fingerprint, status_code=0
                    )
            except IntegrityError:
                record = IdempotencyRecord.objects.get(client=client, key=key)
                if record.fingerprint != fingerprint:
                    raise Problem(
                        422,
                        "idempotency-key-reused",
                        _("This Idempotency-Key was used for another request."),
                        _("Use a new key for every new request; repeat a key only to resend it."),
                    ) from None
                replay = Response(record.body, status=record.status_code)
                replay["Idempotent-Replayed"] = "true"
                return replay
            response = handler(view, request, *args, **kwargs)
            record.status_code = response.status_code
            record.body = (
                json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
            )
            record.save(update_fields=["status_code", "body"])
            return response

    return wrapped
