"""The web UI (and /docs) in real headless Chromium: Debian's `chromium`, driven by
Playwright without a browser download. Open a scope with an API key, search with explain bars,
open a memory with its episodes, history, links and retention curve, the link graph, then
edit, forget, restore and delete, each checked against the REST API. Nothing is fetched from
another host."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from memsvc import Memory
from memsvc.api import create_app
from memsvc.embed import CachedEmbedder
from tests.conftest import LiveServer, make_settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KEY = {"authorization": "Bearer key-a"}

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)"
)
pytest.importorskip("playwright.sync_api", reason="playwright (the dev extra) drives chromium")


def _fill(m: Memory) -> None:
    m.add(
        [
            {
                "role": "user",
                "content": "I adopted a golden retriever puppy named Max.",
                "timestamp": "2024-03-02T10:00:00Z",
            },
            {"role": "assistant", "content": "Lovely! How old is he?"},
        ],
        user_id="alice",
        session_id="s1",
    )
    m.add(
        "Max, my golden retriever puppy, loves swimming in the lake.",
        user_id="alice",
        session_id="s2",
        timestamp="2024-04-02T10:00:00Z",
    )
    m.add("I am allergic to peanuts.", user_id="alice", timestamp="2024-04-10T09:00:00Z")
    m.add("I work as a nurse in Porto.", user_id="alice", timestamp="2024-05-01T09:00:00Z")


@pytest.fixture
def server(tmp_path: Path, embedder: CachedEmbedder) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path / "store", api={"api_keys": {"key-a": "default"}})
    with Memory(settings, embedder=embedder) as m:
        _fill(m)
    with LiveServer(create_app(settings, embedder=embedder)) as srv:
        yield srv


def _api(srv: LiveServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{srv.url}{path}", headers=KEY, timeout=30, **kwargs)


def test_ui_in_headless_chromium(server: LiveServer, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    srv = server
    listed = _api(srv, "GET", "/v1/memories", params={"user_id": "alice"}).json()["results"]
    requests: list[str] = []
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh --user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1500, "height": 950},
        )
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("console", lambda c: problems.append(c.text) if c.type == "error" else None)

        page.goto(f"{srv.url}/ui/")
        page.fill("#user_id", "alice")
        page.fill("#api_key", "key-a")
        page.click("#scope-form button")
        expect(page.locator("#memories li")).to_have_count(len(listed))
        expect(page.locator("#graph circle.node")).to_have_count(len(listed))
        links = {
            m["id"]: _api(
                srv, "GET", f"/v1/memories/{m['id']}/links", params={"user_id": "alice"}
            ).json()
            for m in listed
        }
        out_links = sum(1 for ls in links.values() for link in ls if link["direction"] == "out")
        assert out_links >= 1
        expect(page.locator("#graph line.edge")).to_have_count(out_links)

        # Search: explain parts drawn as bars, as many as the API returns.
        page.fill("#query", "what is my dog called?")
        page.click("#search-form button")
        expect(page.locator("#results li.hit").first).to_contain_text("Max")
        body = {
            "query": "what is my dog called?",
            "user_id": "alice",
            "top_k": 10,
            "explain": True,
            "reinforce": False,
        }
        top = _api(srv, "POST", "/v1/memories/search", json=body).json()["results"][0]
        first = page.locator("#results li.hit").first
        expect(first.locator(".bar")).to_have_count(len(top["explain"]))
        widths = first.locator(".bar").evaluate_all("bars => bars.map(b => b.style.width)")
        peak = max(abs(v) for v in top["explain"].values())
        expected = [100 * abs(v) / peak for v in top["explain"].values()]
        assert [float(w.rstrip("%")) for w in widths] == pytest.approx(expected, abs=0.1)

        # A memory: episodes (the raw messages), history, links, retention curve.
        first.click()
        expect(page.locator("#d-text")).to_have_text(top["memory"])
        expect(page.locator("#d-episodes li")).to_have_count(len(top["episode_ids"]))
        expect(page.locator("#d-episodes")).to_contain_text("I adopted a golden retriever")
        expect(page.locator("#d-history li").first).to_contain_text("ADD")
        expect(page.locator("#d-links li")).to_have_count(len(links[top["id"]]))
        expect(page.locator("#retention polyline.curve")).to_have_count(1)
        expect(page.locator("#retention")).to_contain_text("forgotten after")
        if os.environ.get("MEMSVC_UI_SCREENSHOT"):  # how docs/ui.png is made
            page.screenshot(path=os.environ["MEMSVC_UI_SCREENSHOT"], full_page=True)

        def stored() -> dict[str, Any]:
            resp = _api(srv, "GET", f"/v1/memories/{top['id']}", params={"user_id": "alice"})
            return resp.json() if resp.status_code == 200 else {"status_code": resp.status_code}

        page.fill("#d-edit", "My golden retriever puppy is called Max.")
        page.click("#d-save")
        expect(page.locator("#d-text")).to_have_text("My golden retriever puppy is called Max.")
        assert stored()["memory"] == "My golden retriever puppy is called Max."
        expect(page.locator("#d-history")).to_contain_text("UPDATE")
        page.click("#d-forget")
        expect(page.locator("#d-meta")).to_contain_text("forgotten")
        assert stored()["status"] == "forgotten"
        expect(page.locator(f'#graph circle.node.forgotten[data-id="{top["id"]}"]')).to_have_count(
            1
        )
        page.click("#d-restore")
        expect(page.locator("#d-forget")).to_be_visible()
        assert stored()["status"] == "active"
        page.click("#d-delete")
        page.click("#d-delete")  # the second click confirms
        expect(page.locator("#memories li")).to_have_count(len(listed) - 1)
        assert stored() == {"status_code": 404}

        # The API docs render from the app's own assets too (this browser reaches no CDN).
        page.goto(f"{srv.url}/docs")
        expect(page.locator(".opblock").first).to_be_visible()
        expect(page.locator(".swagger-ui")).to_contain_text("/v1/memories/search")
        browser.close()
    foreign = [r for r in requests if not r.startswith(srv.url + "/")]
    assert requests and not foreign, foreign
    assert not problems, problems
