"""The live training view: a localhost page that follows per-epoch updates."""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

from neurosim.errors import ValidationError
from neurosim.training.config import TrainConfig
from neurosim.training.live import LiveView, training_callback
from neurosim.training.loop import train

PNG = b"\x89PNG\r\n\x1a\n"


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read()


def test_live_view_serves_the_state_of_a_real_training_run_every_epoch():
    """Train for 3 epochs with the view attached; after each epoch fetch what the server serves."""
    view = LiveView(port=0)
    url = view.start()
    served = []
    try:
        assert url.startswith("http://127.0.0.1:") and view.port > 0
        code, ctype, body = _get(url)
        assert code == 200 and "text/html" in ctype
        assert all(name.encode() in body for name in ("state.json", "curves.png", "activity.png"))
        state = json.loads(_get(url + "state.json")[2])
        assert state["epoch"] == 0 and not state["done"] and "waiting" in state["summary"]
        feed = training_callback(view)

        def on_epoch(**info):
            feed(**info)
            e = info["epoch"]
            # images after the first and the last epoch (drawing one takes ~1 s)
            images = {name: _get(f"{url}{name}?e={e}") for name in ("curves.png", "activity.png")
                      if e in (1, info["epochs"])}
            served.append((json.loads(_get(url + "state.json")[2]), images))

        result = train(TrainConfig(hidden=32, epochs=3, max_train_samples=200, max_test_samples=100),
                       progress=False, on_epoch=on_epoch)
        with pytest.raises(urllib.error.HTTPError):
            _get(url + "nothing-here")
    finally:
        view.stop()
    assert [s["epoch"] for s, _ in served] == [1, 2, 3] and all(s["epochs"] == 3 for s, _ in served)
    # the summary after epoch e shows the training losses the loop recorded for epoch e
    for e, (state, images) in enumerate(served):
        for kind in ("dense", "sparse"):
            assert f"{kind} {result.metrics[kind]['history']['train_loss'][e]:.4f}" in state["summary"], (e, kind)
        assert len(images) == (0 if e == 1 else 2)
        for name, (code, ctype, png) in images.items():
            assert code == 200 and ctype == "image/png" and png[:8] == PNG and len(png) > 5000, (e, name)
    # after the last epoch the activity shown is the trained sparse model's on the test digits
    active = result.metrics["sparse"]["activation_density"]
    assert f"sparse {active * 100:.0f}% units active" in served[-1][0]["summary"]
    # images are redrawn when training moves on
    for name in ("curves.png", "activity.png"):
        assert served[0][1][name][2] != served[-1][1][name][2], name
    assert view.state_summary()["done"] is True
    with pytest.raises(urllib.error.URLError):
        _get(url + "state.json")


def test_live_view_refuses_a_port_in_use():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(ValidationError, match=f"cannot listen on 127.0.0.1:{port}"):
            LiveView(port=port).start()
    with pytest.raises(ValidationError, match="--live-port"):
        LiveView(port=70000)


def test_train_live_flag_feeds_the_view_every_epoch(tmp_path, monkeypatch, capsys):
    """`neurosim train --live`: prints the URL, the view gets one update per epoch, the server stops."""
    from neurosim.training import live
    from neurosim.cli import main

    calls, original = [], live.LiveView.update

    def spy(self, epoch, epochs, history, hidden=None, labels=None):
        calls.append((epoch, epochs, sorted(history), sorted(hidden or {}), None if labels is None else len(labels)))
        return original(self, epoch, epochs, history, hidden, labels)

    monkeypatch.setattr(live.LiveView, "update", spy)
    rc = main(["train", "--live", "--live-port", "0", "--epochs", "3", "--hidden", "16", "--quiet", "--no-plots",
               "--out", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert rc == 0
    url = next(line.split()[-1] for line in out.splitlines() if line.startswith("live view: "))
    assert url.startswith("http://127.0.0.1:")
    assert [c[0] for c in calls] == [1, 2, 3] and all(c[1] == 3 for c in calls)
    assert {"dense", "sparse"} <= set(calls[-1][2]) and calls[-1][3] == ["dense", "sparse"]
    assert calls[-1][4] == 359  # hidden activations of every test digit, with their labels
    with pytest.raises(urllib.error.URLError):
        _get(url + "state.json")
