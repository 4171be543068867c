"""The live training view: a localhost page that follows per-epoch updates."""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import numpy as np
import pytest

from neurosim.errors import ValidationError
from neurosim.training.live import LiveView, training_callback


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read()


def _fake_epoch(view: LiveView, epoch: int):
    rng = np.random.default_rng(epoch)
    labels = np.repeat(np.arange(10), 5)
    hidden = {"dense": rng.random((50, 32)), "sparse": np.where(rng.random((50, 32)) < 0.1, 1.0, 0.0)}
    history = {"dense": {"train_loss": [0.1 / e for e in range(1, epoch + 1)], "test_mse": [0.11 / e for e in range(1, epoch + 1)]},
               "sparse": {"train_loss": [0.2 / e for e in range(1, epoch + 1)], "test_mse": [0.21 / e for e in range(1, epoch + 1)]}}
    training_callback(view)(epoch=epoch, epochs=5, history=history, hidden=hidden, labels=labels)
    return hidden


def test_live_view_serves_page_state_and_images_on_localhost():
    view = LiveView(port=0)
    url = view.start()
    try:
        assert url.startswith("http://127.0.0.1:") and view.port > 0
        code, ctype, body = _get(url)
        assert code == 200 and "text/html" in ctype and b"state.json" in body
        state = json.loads(_get(url + "state.json")[2])
        assert state["epoch"] == 0 and not state["done"]
        empty = _get(url + "curves.png")[2]  # before the first epoch: a placeholder image
        assert empty[:8] == b"\x89PNG\r\n\x1a\n"
        hidden = _fake_epoch(view, 1)
        _fake_epoch(view, 2)
        state = json.loads(_get(url + "state.json")[2])
        assert state["epoch"] == 2 and state["epochs"] == 5
        sparse_active = (hidden["sparse"] > 0).mean()
        assert "epoch 2 of 5" in state["summary"] and "dense 0.0500" in state["summary"]
        for name in ("curves.png", "activity.png"):
            code, ctype, png = _get(url + name + "?e=2")
            assert code == 200 and ctype == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
        # drawn once per epoch: the same bytes until the next update
        assert _get(url + "activity.png")[2] == _get(url + "activity.png")[2]
        assert 0 < sparse_active < 0.2
        with pytest.raises(urllib.error.HTTPError):
            _get(url + "nothing-here")
    finally:
        view.stop()
    assert json.loads(json.dumps(view.state_summary()))["done"] is True
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
