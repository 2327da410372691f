"""/docs works offline: every asset it references is served by the app itself; /redoc (whose
bundle fetches a logo from a CDN) redirects there."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from memsvc.api import create_app
from tests.conftest import make_settings

# Attributes and JS strings through which a page pulls in something.
_REFS = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")


def test_docs_page_references_no_external_host(tmp_path: Path) -> None:
    # The pages need no runtime: a TestClient outside `with` does not start the lifespan.
    client = TestClient(create_app(make_settings(tmp_path)))
    redoc = client.get("/redoc", follow_redirects=False)
    assert redoc.status_code == 307 and redoc.headers["location"] == "/docs"
    resp = client.get("/docs")
    assert resp.status_code == 200
    html = resp.text
    assert "http://" not in html and "https://" not in html
    refs = [a or b for a, b in _REFS.findall(html)]
    assert len(refs) >= 3  # stylesheet/script, favicon, the OpenAPI document
    for ref in refs:
        assert ref.startswith("/") and not ref.startswith("//"), ref
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        assert len(asset.content) > 100, ref
    scripts = [r for r in refs if r.endswith(".js")]
    assert scripts, refs
    js = (client.get(scripts[0])).text
    assert "SwaggerUIBundle" in js
