"""`spotilla-procountor demo-web` as a user starts it: a real process whose printed link opens the admin's page
signed in, whose printed API key switches the integration on, and which stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from spotilla_procountor.adapters.web.auth import CSRF_HEADER

pytestmark = [pytest.mark.loopback, pytest.mark.slow]


def _printed(log: Path, process: subprocess.Popen, pattern: str) -> re.Match:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text())
        if found:
            return found
        assert process.poll() is None, f"demo-web exited: {log.read_text()}"
        time.sleep(0.05)
    raise AssertionError(f"demo-web did not print {pattern!r}: {log.read_text()}")


def test_demo_web_prints_a_link_that_opens_the_admins_page_and_the_key_that_switches_it_on(tmp_path: Path) -> None:
    log = tmp_path / "demo-web.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTILLA_PROCOUNTOR_")}
    command = [sys.executable, "-c", "from spotilla_procountor.app.cli import main; main()", "demo-web", "--port", "0"]
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        admin_link = _printed(log, process, r"(http://127\.0\.0\.1:\d+)/launch\?token=([\w.-]+)")
        api_key = _printed(log, process, r"API key\s+(\S+)").group(1)
        iban = _printed(log, process, r"Bank account\s+(\S+)").group(1)
        _printed(log, process, r"Ctrl-C stops the demo")

        with httpx.Client(base_url=admin_link.group(1), timeout=30, follow_redirects=True) as http:
            page = http.get(admin_link.group(0).removeprefix(admin_link.group(1)))
            assert page.status_code == 200
            assert str(page.url).endswith("/organizations/1/integration")
            assert "Demo Huolto Oy" in page.text and "Ota integraatio käyttöön" in page.text
            csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text).group(1)
            change = {"api_key": api_key, "environment": "test", "bank_account": iban}
            answer = http.put("/api/v1/organizations/1/integration", json=change, headers={CSRF_HEADER: csrf})
            assert answer.status_code == 200, answer.text
            assert answer.json()["enabled"] is True
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    assert code == 0, log.read_text()
    assert "Demo stopped" in log.read_text()
