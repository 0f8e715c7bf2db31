"""Fixtures for the browser tests: a real headless Chromium (Debian `chromium` + `chromium-driver`), the report
site served over HTTP on 127.0.0.1, and the session's published warehouse (shared with tests/report)."""

from __future__ import annotations

import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from report_helpers import shared_site

CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = ("headless Chromium is not installed: run `make browser-deps` (it runs "
                "`apt-get install -y chromium chromium-driver`)")


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium binary; fails (never skips, never installs) when Chromium or its driver is missing."""
    binary = shutil.which("chromium")
    if binary is None or not CHROMEDRIVER.exists():
        pytest.fail(INSTALL_HINT, pytrace=False)
    return binary


@pytest.fixture(scope="session", params=["id", "en"])
def report_site(request, chromium, tmp_path_factory):
    """The report in each language (Bahasa Indonesia, the default, and English) from the same published file.
    Checks the browser first, so a missing Chromium fails fast, before the warehouse is built."""
    return (*shared_site(tmp_path_factory, request.param), request.param)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture(scope="session")
def site_url(report_site):
    """Serve the report folder on a free port of 127.0.0.1 for the session; yield its base URL."""
    index = report_site[1]
    handler = functools.partial(_Quiet, directory=str(index.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="report-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def chrome(chromium, tmp_path):
    """A headless Chromium driven by the system chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--user-data-dir={tmp_path / 'chrome-profile'}", "--window-size=1400,1000"):
        opts.add_argument(arg)
    opts.binary_location = chromium
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
