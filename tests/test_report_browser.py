"""Our HTML reports in a real browser: headless Chromium (Debian's package, installed by
`make test`) loads the tiny demo's report.html: every figure decodes to a nonzero size, the
console stays clean, nothing is fetched, every section and the headline table are there; a
screenshot is kept as a test artifact (test-artifacts/report.png, git-ignored). The live
training page is checked the same way."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from factories import tiny_demo
from neurosim.reporting.document import SECTIONS

CHROMIUM = os.environ.get("NEUROSIM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = pytest.mark.browser


def _browser(p):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} not installed (`make test` installs Debian's chromium)")
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


@pytest.fixture(scope="module")
def page_state(tmp_path_factory):
    """The demo report as Chromium sees it: images, headings, headline table, console, requests."""
    from playwright.sync_api import sync_playwright

    out, _ = tiny_demo(tmp_path_factory)
    messages, page_errors, requests = [], [], []
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda msg: messages.append((msg.type, msg.text)))
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.on("request", lambda req: requests.append(req.url))
            page.goto((out / "report.html").as_uri(), wait_until="load")
            state = page.evaluate("""() => ({
                images: Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete,
                                                               w: i.naturalWidth, h: i.naturalHeight})),
                sections: Array.from(document.querySelectorAll('h2')).map(h => [h.id, h.textContent]),
                headline: Array.from(document.querySelectorAll('#headline + .tablewrap thead th'))
                               .map(th => th.textContent),
                figures: Array.from(document.querySelectorAll('figure')).map(f => ({id: f.id,
                    caption: f.querySelector('figcaption').textContent, w: f.querySelector('img').naturalWidth,
                    h: f.querySelector('img').naturalHeight, complete: f.querySelector('img').complete})),
            })""")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    meta = json.loads((out / "report.json").read_text())
    return {**state, "messages": messages, "page_errors": page_errors, "requests": requests, "meta": meta}


def test_every_figure_of_the_report_decodes(page_state):
    images, meta = page_state["images"], page_state["meta"]
    assert [i["alt"] for i in images] == [f["title"] for f in meta["figures"]]
    broken = [i["alt"] for i in images if not (i["complete"] and i["w"] > 0 and i["h"] > 0)]
    assert not broken, f"figures that did not decode: {broken}"


def test_the_report_loads_cleanly_and_self_contained(page_state):
    errors = [text for kind, text in page_state["messages"] if kind in ("error", "assert")]
    assert not errors, f"console errors: {errors}"
    assert not page_state["page_errors"], page_state["page_errors"]
    external = [u for u in page_state["requests"] if not u.startswith(("file:", "data:"))]
    assert not external, f"the report fetched {external}"
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_every_section_and_the_headline_table_are_shown(page_state):
    assert page_state["sections"] == [[key, title] for key, title, _ in SECTIONS]
    assert page_state["headline"] == ["quantity", "dense", "sparse", "small dense", "sparse vs dense"]


def test_the_subnetwork_figures_decode_and_state_the_definition_and_numbers(page_state):
    figures = {f["id"]: f for f in page_state["figures"]}
    subs = page_state["meta"]["numbers"]["subnetworks"]
    for key in ("fig-subnetworks", "fig-ablation", "fig-jaccard", "fig-activity_rasters"):
        assert figures[key]["complete"] and figures[key]["w"] > 0 and figures[key]["h"] > 0, key
    # ten digit rows of images, each at least 40 screen pixels high for its 8 data pixels
    assert figures["fig-subnetworks"]["h"] >= 10 * 40
    caption = figures["fig-subnetworks"]["caption"]
    sparse = subs["sparse"]
    assert "shuffled-label null" in caption and f"d′ > {sparse['threshold_dprime']:.2f}" in caption
    assert "sizes " + ", ".join(f"{c}: {n}" for c, n in sparse["sizes"].items()) in caption
    assert f"{sparse['drawings_recognised']} of 10 drawings" in caption
    caption = figures["fig-ablation"]["caption"]
    for name, a in subs["ablation"].items():
        assert f"{name} {a['diagonal_ratio']:.1f} (random {a['random_diagonal_ratio']:.2f})" in caption, name
    assert "Definition: a digit's subnetwork = the hidden units" in figures["fig-jaccard"]["caption"]


def test_live_training_page_renders_in_chromium():
    """`neurosim train --live`'s page: status text follows the epochs, both images decode."""
    from playwright.sync_api import sync_playwright

    from neurosim.training.live import LiveView

    def epoch(e: int) -> None:  # what the training loop reports after epoch e of 3
        rng = np.random.default_rng(e)
        view.update(e, 3, {m: {"train_loss": [0.1 / k for k in range(1, e + 1)]} for m in ("dense", "sparse")},
                    {m: rng.random((40, 16)) - 0.5 for m in ("dense", "sparse")}, np.repeat(np.arange(10), 4))

    view = LiveView(port=0)
    url = view.start()
    messages = []
    try:
        epoch(1)
        with sync_playwright() as p:
            browser = _browser(p)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 900})
                page.on("console", lambda msg: messages.append((msg.type, msg.text)))
                page.goto(url, wait_until="load")
                page.wait_for_function("() => document.getElementById('status').textContent.includes('epoch 1')")
                epoch(2)
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
