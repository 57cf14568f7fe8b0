"""Task tokens and ids: opaque to callers, routable by the cloud.

A token names the execution it belongs to and one attempt of one Task, so whichever
workflow handle receives ``send_task_success(token, ...)`` finds the execution without a
lookup table, and a token survives a restart (the waiting frame keeps it in its state).
"""

from __future__ import annotations

import base64
import binascii
import secrets

from stratus.resources.workflow import InvalidToken

_PREFIX = "AQB"  # the first characters of AWS task tokens; nothing reads it


def new_token(execution_arn: str) -> str:
    raw = f"{execution_arn}\n{secrets.token_hex(16)}".encode()
    return _PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def execution_of(token: str) -> str:
    """The execution ARN a token belongs to; InvalidToken if it is not one of ours."""
    if not token.startswith(_PREFIX):
        raise InvalidToken("Invalid Token: 'Invalid token'")
    body = token[len(_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidToken("Invalid Token: 'Invalid token'") from None
    arn, sep, nonce = raw.partition("\n")
    if not sep or not arn.startswith("arn:aws:states:") or len(nonce) != 32:
        raise InvalidToken("Invalid Token: 'Invalid token'")
    return arn
