"""The live page of sira serve in headless Chromium (Debian's
chromium-headless-shell): after three images of a series, a screenshot shows
the latest raw slice and its restored slice side by side, 1:1, on one intensity
scale ([min, max] of the raw slice to 0..255): the pixels of both canvases equal
that mapping computed here with numpy from the image sent and the restored
image the PUSH subscriber received; the rendered page names the image and
shows the counters (received 3, published 3, dropped 0, rejected 0)."""
import io
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import (Serve, Subscriber, check, finish, free_port, metrics, push_socket, sira, v2_end,  # noqa: E402
                        v2_image, v2_start, wait_until)
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

CHROMIUM = "/usr/bin/chromium-headless-shell"
work = tempfile.mkdtemp(prefix="sira_serve_page_")
m1 = os.path.join(work, "m1.sira")
sira("init", "-q", "-o", m1, "--slices", "1", "--seed", "31")
H, W = 80, 120
yy, xx = np.mgrid[0:H, 0:W]
rng = np.random.default_rng(9)
images = [(2000 + 1500 * np.sin(xx / 9.0 + k) * np.cos(yy / 6.0) + 300 * rng.standard_normal((H, W)))
          .clip(0, 65535).astype(np.uint16) for k in range(3)]

inp, out, http = free_port(), free_port(), free_port()
serve = Serve(work, "-m", m1, "--input", f"tcp://127.0.0.1:{inp}", "--push-bind", f"tcp://127.0.0.1:{out}",
              "--metrics-bind", f"127.0.0.1:{http}", "--threads", "2", "--exit-after", "1", name="page")
sub = Subscriber(f"tcp://127.0.0.1:{out}")
push = push_socket(inp)
push.send(v2_start(4, H, W, 3))
for i, img in enumerate(images):
    push.send(v2_image(4, i, img))
published = wait_until(lambda: metrics(http)["published"] == 3 and sub.wait_for(3, 1), timeout=60)
check(published, "three images published")


def chromium(*args):
    return subprocess.run([CHROMIUM, "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-color-profile=srgb",
                           "--force-device-scale-factor=1", "--virtual-time-budget=5000", *args,
                           f"http://127.0.0.1:{http}/"], capture_output=True, text=True, timeout=120)


shot = os.path.join(work, "page.png")
r = chromium("--window-size=400,300", f"--screenshot={shot}")
check(r.returncode == 0 and os.path.exists(shot), f"headless Chromium takes a screenshot ({r.stderr[-300:]})")
dom = chromium("--dump-dom").stdout

raw = images[2].astype(np.float64)
restored = sub.results[2][1].astype(np.float64)
lo, hi = raw.min(), raw.max()


def scaled(v):  # the documented mapping, rounding half away from zero
    return np.floor(np.clip((v - lo) / (hi - lo), 0, 1) * 255 + 0.5).astype(np.int64)


if os.path.exists(shot):
    px = np.asarray(Image.open(io.BytesIO(open(shot, "rb").read())).convert("RGB")).astype(np.int64)
    for name, left, img in (("raw", 10, raw), ("restored", 10 + W + 20, restored)):
        crop = px[40:40 + H, left:left + W]
        gray = crop[..., 0]
        exact = scaled(img)
        diff = np.abs(gray - exact)
        check(np.array_equal(crop[..., 0], crop[..., 1]) and np.array_equal(crop[..., 1], crop[..., 2]),
              f"the {name} canvas is gray")
        check(diff.max() <= 1 and (diff > 0).sum() <= 5,
              f"the {name} canvas shows image 2 on the common scale pixel for pixel "
              f"(max diff {diff.max()}, {(diff > 0).sum()} off by one)")
    check(np.abs(scaled(restored) - scaled(raw)).mean() > 1, "raw and restored differ on the page (two images)")
check("series 4, image 2" in dom, "the page names the latest image")
check("received 3 | published 3 | dropped 0 | rejected 0 | in flight 0" in dom, "the page shows the counters")
check("latency p50" in dom, "the page shows the latency")

push.send(v2_end(4))
code, counters = serve.wait()
sub.close()
push.close()
check(code == 0 and counters["published"] == 3, "sira serve exits 0 after the series")
finish()
