"""Watch training happen: a page on localhost that follows the models while they train.

``neurosim train --live`` starts a :class:`LiveView`: a small HTTP server (the standard
library's ``http.server``, in a daemon thread, bound to 127.0.0.1 only) that serves one
page. The page polls ``/state.json`` about once a second and reloads two images when a new
epoch has finished:

* ``/curves.png``: the models' training and test losses per epoch, side by side;
* ``/activity.png``: the class x hidden-unit firing-frequency map of the dense and the
  sparse model on the held-out test digits, units ordered by preferred digit, so one sees
  the digit-specific subnetworks form as the gate tightens and pruning proceeds.

The training loop calls :meth:`LiveView.update` once per epoch (the ``on_epoch`` hook of
:func:`neurosim.training.train`); ``update`` only stores numbers (a few kilobytes), and the
images are drawn with matplotlib's Agg canvas (no display, no pyplot state) when a browser
asks for them, so training is not slowed down when nobody watches. Nothing here opens a
window or a browser: without a display everything works the same.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Sequence

import numpy as np

from neurosim.errors import ValidationError
from neurosim.fileio import json_default
from neurosim.reporting.palette import MODEL_COLORS as COLORS  # one palette for every figure
from neurosim.training.metrics import firing_frequency, unit_order

log = logging.getLogger(__name__)

DEFAULT_PORT = 8765

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>neurosim: live training</title>
<style>
body { font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #1f2328; }
h1 { font-size: 22px; margin: 0 0 4px; } #status { color: #59636e; margin-bottom: 12px; }
img { max-width: 100%; border: 1px solid #d1d9e0; border-radius: 4px; margin: 8px 0; display: block; }
.done { color: #1a7f37; font-weight: 600; } .gone { color: #cf222e; }
</style></head><body>
<h1>Dense vs sparse, training side by side</h1>
<div id="status">waiting for the first epoch&hellip;</div>
<img id="curves" alt="loss curves" src="curves.png?e=0">
<img id="activity" alt="activity map" src="activity.png?e=0">
<script>
let shown = -1;
async function poll() {
  try {
    const r = await fetch("state.json", {cache: "no-store"});
    const s = await r.json();
    const el = document.getElementById("status");
    el.textContent = s.summary;
    el.className = s.done ? "done" : "";
    if (s.epoch !== shown) {
      shown = s.epoch;
      document.getElementById("curves").src = "curves.png?e=" + s.epoch;
      document.getElementById("activity").src = "activity.png?e=" + s.epoch;
    }
    if (!s.done) setTimeout(poll, 1000);
  } catch (err) {
    const el = document.getElementById("status");
    el.textContent = "training has ended and the live server has stopped; the images show the last state.";
    el.className = "gone";
  }
}
poll();
</script></body></html>
"""


class LiveView:
    """A live training page served on ``http://127.0.0.1:PORT/``.

    Parameters
    ----------
    port : int
        TCP port on 127.0.0.1; 0 picks a free one. A port in use raises ValidationError.
    host : str
        Interface to bind; 127.0.0.1 by default (the page is not exposed to the network).
    """

    def __init__(self, port: int = DEFAULT_PORT, host: str = "127.0.0.1"):
        if not 0 <= int(port) <= 65535:
            raise ValidationError(f"--live-port must be in 0..65535, got {port}")
        self.host, self.port = host, int(port)
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {"epoch": 0, "epochs": None, "history": {}, "freqs": {}, "done": False,
                                       "active": {}}
        self._cache: dict[str, tuple[int, bytes]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._watched = False  # a page has polled the state

    # ------------------------------------------------------------------ server
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> str:
        """Start serving in a daemon thread; return the URL."""
        view = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                path = self.path.split("?", 1)[0]
                try:
                    if path in ("/", "/index.html"):
                        self._send(200, "text/html; charset=utf-8", PAGE.encode("utf-8"))
                    elif path == "/state.json":
                        view._watched = True
                        self._send(200, "application/json", json.dumps(view.state_summary(), default=json_default).encode("utf-8"))
                    elif path == "/curves.png":
                        self._send(200, "image/png", view.image("curves"))
                    elif path == "/activity.png":
                        self._send(200, "image/png", view.image("activity"))
                    elif path == "/favicon.ico":
                        self._send(204, "image/x-icon", b"")
                    else:
                        self._send(404, "text/plain", b"not found")
                except (BrokenPipeError, ConnectionResetError):  # the browser went away
                    pass

            def _send(self, code: int, ctype: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def log_message(self, fmt, *args):  # keep the terminal for the progress bar
                log.debug("live view: " + fmt, *args)

        try:
            self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        except OSError as exc:
            raise ValidationError(f"live view: cannot listen on {self.host}:{self.port} ({exc.strerror or exc}); "
                                  "choose another --live-port (0 picks a free one)") from None
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="neurosim-live", daemon=True)
        self._thread.start()
        return self.url

    def stop(self, linger_s: float | None = None) -> None:
        """Mark training done, keep serving ``linger_s`` seconds so that an open page fetches the
        final state (default: 2 s when a page is watching, else 0), then stop."""
        with self._lock:
            self._state["done"] = True
        if self._server is None:
            return
        if linger_s is None:
            linger_s = 2.0 if self._watched else 0.0
        if linger_s > 0:
            time.sleep(linger_s)
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def __enter__(self) -> "LiveView":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ data
    def update(self, epoch: int, epochs: int | None, history: dict[str, dict[str, Sequence[float]]],
               hidden: dict[str, np.ndarray] | None = None, labels: np.ndarray | None = None) -> None:
        """Record the state after ``epoch`` (1-based) of ``epochs``.

        ``history[model][curve]`` are per-epoch values (``train_loss``, ``test_mse``...);
        ``hidden[model]`` the hidden activations ``(N, H)`` on the test inputs whose digit
        classes are ``labels`` (N,); a unit is active where ``h > 0``.
        """
        freqs, active = {}, {}
        if hidden is not None and labels is not None:
            labels = np.asarray(labels)
            classes = sorted(int(c) for c in np.unique(labels))
            for model, h in hidden.items():
                h = np.asarray(h)
                freqs[model] = (classes, firing_frequency(h > 0, labels, classes))
                active[model] = float((h > 0).mean())
        hist = {m: {k: [float(v) for v in vals] for k, vals in curves.items()
                    if isinstance(vals, (list, tuple)) and all(isinstance(v, (int, float)) for v in vals)}
                for m, curves in history.items() if isinstance(curves, dict)}
        with self._lock:
            self._state.update(epoch=int(epoch), epochs=epochs, history=hist)
            if freqs:
                self._state["freqs"], self._state["active"] = freqs, active

    def state_summary(self) -> dict[str, Any]:
        with self._lock:
            s = dict(self._state)
        parts = []
        for model, curves in s["history"].items():
            curve = curves.get("train_loss") or next(iter(curves.values()), None)
            if curve:
                parts.append(f"{model} {curve[-1]:.4f}")
        active = ", ".join(f"{m} {a * 100:.0f}% units active" for m, a in s.get("active", {}).items())
        if s["epoch"] == 0:
            summary = "waiting for the first epoch…"
        else:
            summary = (f"{'finished: ' if s['done'] else ''}epoch {s['epoch']}"
                       + (f" of {s['epochs']}" if s["epochs"] else "")
                       + (" · training loss " + ", ".join(parts) if parts else "")
                       + (" · " + active if active else ""))
        return {"epoch": s["epoch"], "epochs": s["epochs"], "done": s["done"], "summary": summary}

    def image(self, which: str) -> bytes:
        """PNG of ``'curves'`` or ``'activity'`` for the latest epoch (drawn once per epoch)."""
        with self._lock:
            epoch = self._state["epoch"]
            cached = self._cache.get(which)
            if cached and cached[0] == epoch:
                return cached[1]
            state = {k: v for k, v in self._state.items()}
        png = render_curves(state) if which == "curves" else render_activity(state)
        with self._lock:
            self._cache[which] = (epoch, png)
        return png


# ---------------------------------------------------------------------- drawing (Agg, no pyplot)


def _figure(w: float, h: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=90, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor="white")
    return buf.getvalue()


def render_curves(state: dict[str, Any]) -> bytes:
    """Training and test loss per epoch for every model (log scale)."""
    fig = _figure(10, 3.3)
    axes = fig.subplots(1, 2, sharey=True)
    epochs = state.get("epochs")
    drew = False
    for ax, names, label in ((axes[0], ("train_loss",), "training set"),
                             (axes[1], ("test_mse", "test_loss"), "held-out test set")):
        for model, curves in state.get("history", {}).items():
            curve = next((curves[n] for n in names if curves.get(n)), None)
            if curve:
                ax.plot(range(1, len(curve) + 1), curve, color=COLORS.get(model), lw=1.8, label=model)
                drew = True
        ax.set_title(f"loss on the {label}")
        ax.set_xlabel("epoch")
        if epochs:
            ax.set_xlim(0.5, epochs + 0.5)
        ax.grid(alpha=0.3)
    if drew:
        for ax in axes:
            ax.set_yscale("log")
        axes[0].legend(frameon=False)
    else:
        axes[0].text(0.5, 0.5, "waiting for the first epoch", ha="center", va="center", transform=axes[0].transAxes)
    axes[0].set_ylabel("reconstruction MSE (pixel² in [0,1])")
    fig.suptitle(f"Loss per epoch (epoch {state.get('epoch', 0)}" + (f" of {epochs})" if epochs else ")"),
                 fontweight="bold")
    return _png(fig)


def render_activity(state: dict[str, Any]) -> bytes:
    """Class x hidden-unit firing frequency of each model, units ordered by preferred digit."""
    freqs = state.get("freqs") or {}
    fig = _figure(10, 1.9 * max(len(freqs), 1) + 0.8)
    if not freqs:
        ax = fig.subplots()
        ax.text(0.5, 0.5, "activity appears after the first epoch", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return _png(fig)
    axes = fig.subplots(len(freqs), 1, squeeze=False)[:, 0]
    im = None
    for ax, (model, (classes, f)) in zip(axes, freqs.items()):
        order, silent = unit_order(f)
        shown = order[: len(order) - silent] if silent < len(order) else order
        im = ax.imshow(f[:, shown], aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_yticks(range(len(classes)))
        ax.set_yticklabels([str(c) for c in classes], fontsize=7)
        ax.set_ylabel("digit")
        ax.set_xlabel(f"hidden unit ({len(shown)} that fire, grouped by preferred digit)")
        ax.set_title(f"{model}: {state.get('active', {}).get(model, 0) * 100:.1f}% of units active per input"
                     + (f", {silent} silent (not shown)" if silent else ""), color=COLORS.get(model), loc="left")
    cbar = fig.colorbar(im, ax=list(axes), fraction=0.025, pad=0.01)
    cbar.set_label("firing frequency")
    fig.suptitle(f"Which hidden units fire for each digit (test set, epoch {state.get('epoch', 0)})",
                 fontweight="bold")
    return _png(fig)


def training_callback(view: LiveView, labels: np.ndarray | None = None):
    """Adapt :meth:`LiveView.update` to the training loop's per-epoch hook.

    The hook is called with keyword arguments ``epoch`` (1-based), ``epochs``, ``history``
    and, optionally, ``hidden`` (model -> (N, H) test-set activations) and ``labels``.
    """

    def on_epoch(**info: Any) -> None:
        view.update(info["epoch"], info.get("epochs"), info.get("history", {}), info.get("hidden"),
                    info.get("labels", labels))

    return on_epoch
