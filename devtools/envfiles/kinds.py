"""What a variable's value is for, by its name and shape, and the items of a list value.

Only a *connection* address is the container's own business: a host it dials (`POSTGRES_SERVER`,
`SMTP_HOST`, `DATABASE_URL=postgresql://...`). The rest is judged by nobody here:

  browser  a URL a browser or the host opens (CORS origins, `FRONTEND_HOST`, `*_BASE_URL`,
           redirect and callback URLs, UIs such as `DASHBOARD_URL`) or code built for the
           browser (`VITE_*`, `NEXT_PUBLIC_*`)
  listen   an address the container listens on (`0.0.0.0`, `::`, `*_BIND`, `*_LISTEN`,
           `PLAYWRIGHT_HTML_HOST`, `HOST`, `UVICORN_*`)
  other    everything else (`DOMAIN`, `PROJECT_NAME`, ...)
"""

from __future__ import annotations

import json
import re
from typing import Literal

Kind = Literal["connection", "browser", "listen", "other"]

HOST_SUFFIXES = ("_HOSTNAME", "_HOST", "_SERVER", "_ADDRESS", "_ADDR", "_ENDPOINT")
# Names that hold a host only sometimes (`WALLET_ADDRESS=0xab12`): judged as one with a port.
LOOSE_SUFFIXES = ("_ADDRESS", "_ADDR", "_ENDPOINT")
# Values that are switches or words, not host names (`JUPYTER_SERVER=true`).
NOT_HOSTS = frozenset(
    {"true", "false", "yes", "no", "on", "off", "none", "null", "nil", "disabled"}
)
LIST_SUFFIXES = ("_HOSTS", "_SERVERS", "_BROKERS", "_NODES", "_ADDRS", "_ADDRESSES")
URL_SUFFIXES = ("_URL", "_URI", "_DSN")
PORT_SUFFIX = "_PORT"
# libpq's own variables, read by every PostgreSQL client.
ALIASES = {"PGHOST": "POSTGRES_HOST", "PGPORT": "POSTGRES_PORT", "PGHOSTADDR": "POSTGRES_ADDR"}

BROWSER_PREFIXES = (
    "VITE_",
    "NEXT_PUBLIC_",
    "REACT_APP_",
    "NUXT_PUBLIC_",
    "VUE_APP_",
    "EXPO_PUBLIC_",
    "GATSBY_",
    "PUBLIC_",
    "STORYBOOK_",
)
BROWSER_WORDS = frozenset(
    {"CORS", "ORIGIN", "ORIGINS", "FRONTEND", "PUBLIC", "SITE", "REDIRECT", "CALLBACK"}
    | {"DOMAIN", "DOMAINS", "ALLOWED", "TRUSTED", "CSRF", "EXTERNAL", "HOMEPAGE", "WEBSITE"}
    | {"BROWSER", "ISSUER"}
    # UIs people open: an API builds links to them (`DASHBOARD_URL=http://localhost:9000/`)
    | {"DASHBOARD", "STOREFRONT", "UI", "WEBAPP", "PORTAL"}
)
BROWSER_SUFFIXES = ("BASE_URL", "PUBLIC_URL", "EXTERNAL_URL")
LISTEN_WORDS = frozenset({"BIND", "LISTEN"})
LISTEN_NAMES = frozenset({"HOST", "HOSTNAME", "PORT", "BIND", "ADDR", "ADDRESS"})
LISTEN_PREFIXES = ("UVICORN_", "GUNICORN_", "HYPERCORN_", "GRANIAN_", "DAPHNE_", "FLASK_RUN_")
LISTEN_SUFFIXES = ("_HTML_HOST", "_HTML_PORT")
LISTEN_HOSTS = frozenset({"0.0.0.0", "::", "[::]", "*"})

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# A list item that is an address: `host:port`, or a lowercase host name or IP.
_LIST_ADDRESS = re.compile(r"^(?:\[?[A-Za-z0-9_.:-]+\]?:\d{1,5}|[a-z0-9][a-z0-9.-]*)$")


def canonical(name: str) -> str:
    upper = name.upper()
    return ALIASES.get(upper, upper)


def is_url(value: str) -> bool:
    return bool(_URL.match(value))


def kind(name: str, value: str) -> Kind:
    """What the value of `name` is for (the name decides; a listen address by shape too)."""
    upper = canonical(name)
    words = set(upper.split("_"))
    if upper.startswith(BROWSER_PREFIXES) or words & BROWSER_WORDS:
        return "browser"
    if any(upper == s or upper.endswith("_" + s) for s in BROWSER_SUFFIXES):
        return "browser"  # `PLAYWRIGHT_BASE_URL`, not `DATABASE_URL`
    if (
        words & LISTEN_WORDS
        or upper in LISTEN_NAMES
        or upper.startswith(LISTEN_PREFIXES)
        or upper.endswith(LISTEN_SUFFIXES)
    ):
        return "listen"
    if any(_bare_host(item) in LISTEN_HOSTS for item in items(value)):
        return "listen"
    suffixes = (*HOST_SUFFIXES, *LIST_SUFFIXES, *URL_SUFFIXES, PORT_SUFFIX)
    if upper.endswith(suffixes) or any(is_url(item) for item in items(value)):
        return "connection"
    return "other"


def _bare_host(item: str) -> str:
    netloc = item.split("://", 1)[1].split("/", 1)[0].rpartition("@")[2] if is_url(item) else item
    if netloc.startswith("["):
        return netloc.partition("]")[0] + "]"
    return netloc if netloc.count(":") > 1 else netloc.partition(":")[0]


def items(value: str) -> list[str]:
    """The items of a list value (`a,b,c` or a JSON list of strings); else the value itself.

    A comma splits only when every piece is a URL or a `host[:port]`: a libpq multi-host URL
    (`postgresql://a:5432,b:5432/db`) stays one value.
    """
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
            return [p.strip() for p in parsed if p.strip()]
    if "," in text:
        pieces = [p.strip() for p in text.split(",") if p.strip()]
        if pieces and all(is_url(p) or _LIST_ADDRESS.match(p) for p in pieces):
            return pieces
    return [text]


def replace_item(value: str, index: int, new: str) -> str:
    """`value` with its `index`th item replaced, in the list's own syntax."""
    parts = items(value)
    if len(parts) == 1:
        return new
    parts[index] = new
    text = value.strip()
    if text.startswith("["):
        return json.dumps(parts)
    return ",".join(parts)
