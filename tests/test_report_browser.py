"""The demo's HTML report in a real browser: headless Chromium (Debian's package) loads the
file, every image decodes, the console stays clean, and a screenshot is kept as a test
artifact (test-artifacts/report.png, git-ignored)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from _tiny_demo import tiny_demo

CHROMIUM = os.environ.get("NEUROSIM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out, _ = tiny_demo(tmp_path_factory)
    return out


def _browser(p):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} not installed (`make test` installs Debian's chromium)")
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


def test_report_loads_in_chromium(report):
    from playwright.sync_api import sync_playwright

    html_path = report / "report.html"
    meta = json.loads((report / "report.json").read_text())
    messages, page_errors, requests = [], [], []
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda msg: messages.append((msg.type, msg.text)))
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.on("request", lambda req: requests.append(req.url))
            page.goto(html_path.as_uri(), wait_until="load")
            images = page.evaluate(
                "() => Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, "
                "w: i.naturalWidth, h: i.naturalHeight}))")
            headings = page.evaluate("() => Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    errors = [text for kind, text in messages if kind in ("error", "assert")]
    assert not errors, f"console errors: {errors}"
    assert not page_errors, f"page errors: {page_errors}"
    # self-contained: the only resource loaded is the file itself (images are data: URIs)
    external = [u for u in requests if not (u.startswith("file:") or u.startswith("data:"))]
    assert not external, f"the report fetched {external}"
    assert len(images) == len(meta["figures"]), "one <img> per figure in report.json"
    broken = [i["alt"] for i in images if not (i["complete"] and i["w"] > 0 and i["h"] > 0)]
    assert not broken, f"images that did not decode: {broken}"
    assert len(headings) == 6
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_a_broken_image_is_detected(tmp_path):
    """The check above can fail: a report with a corrupt PNG is caught."""
    from playwright.sync_api import sync_playwright

    page_html = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title></head><body>"
                 "<img alt='bad' src='data:image/png;base64,iVBORw0KGgoAAAAAAAAAAAAA'></body></html>")
    path = tmp_path / "bad.html"
    path.write_text(page_html)
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page()
            page.goto(path.as_uri(), wait_until="load")
            images = page.evaluate("() => Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
        finally:
            browser.close()
    assert images == [False]


def test_live_training_page_renders_in_chromium():
    """`neurosim train --live`'s page: status text follows the epochs, both images decode."""
    from playwright.sync_api import sync_playwright

    from neurosim.training.live import LiveView
    from test_live import _fake_epoch

    view = LiveView(port=0)
    url = view.start()
    messages = []
    try:
        _fake_epoch(view, 1)
        with sync_playwright() as p:
            browser = _browser(p)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 900})
                page.on("console", lambda msg: messages.append((msg.type, msg.text)))
                page.goto(url, wait_until="load")
                page.wait_for_function("() => document.getElementById('status').textContent.includes('epoch 1')")
                _fake_epoch(view, 2)
                page.wait_for_function("() => document.getElementById('status').textContent.includes('epoch 2')",
                                       timeout=10_000)
                page.wait_for_function("() => Array.from(document.images).every(i => i.complete && "
                                       "i.naturalWidth > 0 && i.src.endsWith('e=2'))", timeout=10_000)
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "live.png"), full_page=True)
            finally:
                browser.close()
    finally:
        view.stop()
    errors = [text for kind, text in messages if kind == "error"]
    assert not errors, errors
