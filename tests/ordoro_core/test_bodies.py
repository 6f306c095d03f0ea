"""Answers are decoded with msgspec into the values the standard library gives, and what
msgspec refuses is still read as before (ordoro_core.bodies)."""

from __future__ import annotations

import json

import msgspec
import pytest
import requests

from ordoro_core.bodies import decode_body
from ordoro_sandbox import Sandbox, SandboxOptions


def test_a_page_of_orders_decodes_to_what_the_standard_library_gives():
    options = SandboxOptions(seed=2, username="u", password="p", orders=120, products=60)
    with Sandbox(options) as sandbox:
        answer = requests.get(
            sandbox.url + "/v3/order", params={"limit": 100}, auth=("u", "p"), timeout=30
        )
    assert decode_body(answer.content, answer.text) == json.loads(answer.text)


@pytest.mark.parametrize(
    "text",
    ['{"ratio": NaN}', '{"ratio": Infinity}', '{"name": "\\ud800"}', "  ", ""],
    ids=["nan", "infinity", "lone-surrogate", "blank", "empty"],
)
def test_what_msgspec_refuses_is_read_as_before(text):
    content = text.encode()
    expected = json.loads(text) if text.strip() else None
    decoded = decode_body(content, text)
    assert decoded == expected or (decoded != decoded and expected != expected)  # NaN
    assert repr(decoded) == repr(expected)


@pytest.mark.parametrize("text", ['{"ratio": NaN}', '{"name": "\\ud800"}', "  "])
def test_control_msgspec_alone_refuses_them(text):
    with pytest.raises(msgspec.DecodeError):
        msgspec.json.decode(text.encode())


def test_a_body_that_is_not_json_is_still_an_error():
    with pytest.raises(ValueError, match="Expecting value"):
        decode_body(b"<html>bad gateway</html>", "<html>bad gateway</html>")
