"""Where requests go: ``api_url`` checked (HTTPS only, but to loopback) and paths built from
percent-encoded segments with Ordoro's trailing-slash rule."""

from __future__ import annotations

import ipaddress
from urllib.parse import quote, urlsplit, urlunsplit

from ordoro_core.errors import OrdoroConfigError, OrdoroInvalidRequest

DEFAULT_API_URL = "https://api.ordoro.com"


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is this machine: ``localhost``, 127.0.0.0/8 or ::1.

    >>> [is_loopback_host(h) for h in ("localhost", "127.0.0.1", "127.8.9.1", "::1")]
    [True, True, True, True]
    >>> [is_loopback_host(h) for h in ("api.ordoro.com", "10.0.0.1", "localhost.example.com")]
    [False, False, False]
    """
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def clean_base_url(api_url: str) -> str:
    """Check ``api_url`` and drop any user:password@ (credentials belong in the settings) and the
    trailing slash.

    Basic credentials go in clear text over plain HTTP, so ``http://`` is refused unless the host
    is a loopback address (a local sandbox).

    >>> clean_base_url("https://user:secret@api.ordoro.com/")
    'https://api.ordoro.com'
    >>> clean_base_url("http://127.0.0.1:8555")
    'http://127.0.0.1:8555'
    """
    try:
        parts = urlsplit(str(api_url).strip())
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        shown = without_userinfo(str(api_url))
        raise OrdoroConfigError(f"api_url must be an absolute https:// URL, got {shown!r}")
    host = parts.hostname
    if parts.scheme == "http" and not is_loopback_host(host):
        raise OrdoroConfigError(
            f"api_url {without_userinfo(str(api_url))!r} is plain http:// to {host}: use "
            "HTTPS (https://); the credentials would travel unencrypted (plain http is only "
            "allowed to loopback hosts such as a local sandbox)"
        )
    netloc = f"[{host}]" if ":" in host else host
    if port:
        netloc = f"{netloc}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def without_userinfo(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.rpartition("@")[2]
    authority, slash, tail = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{tail}"


def build_path(*segments: str | int) -> str:
    """Build an Ordoro path from raw segments.

    Each segment is percent-encoded on its own (``safe=""``), so a SKU holding ``/``, ``#``,
    ``?``, ``%``, spaces or unicode stays one segment. Ordoro's rule for the trailing slash:
    paths under ``/v3/`` have none, every other path needs one.

    >>> build_path("product", "A/B #1", "warehouse", 7)
    '/product/A%2FB%20%231/warehouse/7/'
    >>> build_path("v3", "order", "M-1001")
    '/v3/order/M-1001'
    """
    if not segments:
        raise ValueError("a path needs at least one segment")
    try:
        path = "/" + "/".join(quote(str(segment), safe="") for segment in segments)
    except UnicodeEncodeError:
        raise OrdoroInvalidRequest(
            f"a path segment is not valid Unicode (a lone surrogate): {segments!r}"[:300]
        ) from None
    return path if str(segments[0]) == "v3" else path + "/"
