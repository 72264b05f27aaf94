"""An API that links to its admin dashboard or storefront holds the URL people open in a browser
(`DASHBOARD_URL=http://localhost:9000/`, the dashboard's published port): not a connection."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.compose.model import parse_config
from devtools.compose.source import read_source
from devtools.envfiles.kinds import kind
from devtools.envfiles.model import collect
from devtools.envfiles.rules import check

COMPOSE = """\
services:
  api:
    build: .
    environment:
      DASHBOARD_URL: http://localhost:9000/
      SEARCH_URL: http://localhost:9200/
  dashboard:
    image: nginx
    ports:
      - 9000:80
  search:
    image: opensearch
    ports:
      - 9200:9200
"""


@pytest.mark.parametrize(
    "name",
    ["DASHBOARD_URL", "STOREFRONT_URL", "ADMIN_UI_URL", "WEBAPP_URL", "CUSTOMER_PORTAL_URL"],
)
def test_urls_of_user_interfaces_are_for_the_browser(name: str) -> None:
    assert kind(name, "http://localhost:9000/") == "browser"


def test_the_dashboard_link_is_no_error_while_a_real_dial_to_localhost_still_is(
    tmp_path: Path,
) -> None:
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    env = {"DASHBOARD_URL": "http://localhost:9000/", "SEARCH_URL": "http://localhost:9200/"}
    doc = {
        "services": {
            "api": {"build": {"context": str(tmp_path)}, "environment": env},
            "dashboard": {"image": "nginx", "ports": [{"target": 80, "published": "9000"}]},
            "search": {"image": "opensearch", "ports": [{"target": 9200, "published": "9200"}]},
        }
    }
    files = (tmp_path / "docker-compose.yml",)
    view = collect(parse_config(doc, files=files), read_source(list(files)))
    judged = {(f.id, f.message.split("=")[0]) for f in check(view)}
    assert judged == {("env-host-loopback", "SEARCH_URL")}
