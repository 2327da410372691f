"""`memsvc serve` processes on one database for the replica tests: start, wait until ready,
SIGKILL, restart; plus the HTTP calls the tests make through them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import free_port


class Replica:
    def __init__(self, name: str, db_url: str, data_dir: Path) -> None:
        self.name, self.db_url, self.data_dir = name, db_url, data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "serve.log"
        data_dir.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "MEMSVC_DATABASE__URL": self.db_url,
            # Searches use the vector index alone, so a found note proves this replica's
            # index has it (the full-text channel reads the database directly).
            "MEMSVC_RECALL__LEXICAL": "false",
            "MEMSVC_LOG_LEVEL": "warning",
        }
        cmd = [sys.executable, "-m", "memsvc.cli", "serve", "--port", str(self.port)]
        cmd += ["--data-dir", str(self.data_dir)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)

    # -- the API -------------------------------------------------------------------------
    def add(self, client: httpx.Client, text: str, user: str) -> str:
        body = {"text": text, "user_id": user, "infer": False}
        res = client.post(self.url + "/v1/memories", json=body)
        for _ in range(10):  # at capacity (admission sized to the cores): as the SDK does
            if res.status_code != 429:
                break
            time.sleep(float(res.headers.get("retry-after", "1")))
            res = client.post(self.url + "/v1/memories", json=body)
        res.raise_for_status()
        return str(res.json()["results"][0]["id"])

    def search_ids(self, client: httpx.Client, query: str, user: str, k: int = 5) -> list[str]:
        res = client.post(
            self.url + "/v1/memories/search", json={"query": query, "user_id": user, "top_k": k}
        )
        res.raise_for_status()
        return [str(h["id"]) for h in res.json()["results"]]

    def list_ids(self, client: httpx.Client, user: str) -> set[str]:
        ids: set[str] = set()
        params: dict[str, str] = {"user_id": user}
        while True:
            res = client.get(self.url + "/v1/memories", params=params)
            res.raise_for_status()
            page = res.json()
            ids.update(str(m["id"]) for m in page["results"])
            if not page.get("next_cursor"):
                return ids
            params["cursor"] = page["next_cursor"]

    def index_vectors(self, client: httpx.Client) -> int:
        """Vectors in this process's loaded indexes (keys and parts), from /metrics."""
        text = client.get(self.url + "/metrics").text
        return sum(
            int(float(line.rsplit(" ", 1)[1]))
            for line in text.splitlines()
            if line.startswith("memsvc_index_vectors{")
        )


def wait_until(check: Any, limit_s: float) -> float:
    """Seconds until `check()` is truthy; raises past `limit_s`."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > limit_s:
            raise AssertionError(f"not within {limit_s} s")
        time.sleep(0.02)
    return time.monotonic() - start
