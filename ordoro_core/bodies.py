"""JSON bodies: requests sent as strict JSON, answers read with msgspec.

An answer of 100 orders is about 400 KB of JSON; msgspec's decoder reads it in a quarter of
the time the standard library's takes, into the same Python values. Anything msgspec refuses
(``NaN``, a lone surrogate escape, bytes that are not UTF-8) is read again by the standard
library from the text requests decoded, so what was accepted before still is.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

_decoder = msgspec.json.Decoder()


def decode_body(content: bytes, text: str) -> Any:
    """The JSON value of an answer (None for an empty body); ValueError when it is not JSON.

    >>> decode_body(b'{"count": 1, "order": [{"order_number": "1-1001"}]}', "")
    {'count': 1, 'order': [{'order_number': '1-1001'}]}
    >>> decode_body(b"  ", "  ") is None
    True
    >>> decode_body(b'{"ratio": NaN}', '{"ratio": NaN}')
    {'ratio': nan}
    """
    try:
        return _decoder.decode(content)
    except msgspec.DecodeError:
        return json.loads(text) if text.strip() else None


def encode_body(body: Any) -> str:
    """A request body as strict JSON; ValueError (saying why) when it cannot be.

    >>> encode_body({"on_hand": 12})
    '{"on_hand": 12}'
    >>> encode_body({"on_hand": float("nan")})
    Traceback (most recent call last):
    ...
    ValueError: the JSON body holds NaN or an infinite number, which JSON cannot carry
    """
    try:
        return json.dumps(body, default=str, allow_nan=False)
    except ValueError as error:
        if "Out of range float" in str(error):
            raise ValueError(
                "the JSON body holds NaN or an infinite number, which JSON cannot carry"
            ) from None
        raise ValueError(f"the JSON body cannot be encoded: {error}") from None
