"""sira serve --mode projections against the offline `sira recon` + `sira denoise`
of the same projections (stream-sim replays a Data Exchange file: darks, flats,
then projections, each with user_data image_type / angle_deg):

1. A 180-degree scan (Stream V2, bslz4, 3-slice model): one reconstruction of
   the requested rows, published once the last projection arrived; each slice
   equals the offline result bit for bit; received = published (every dark,
   flat and projection), nothing dropped; the HDF5 file holds the rows.
   The same through the preview lane (which never displaces the per-projection
   steps of the incremental reconstruction).
2. A 360-degree scan with --update-every 30 (array-1.0): the first update
   after 180 degrees, then one every 30 projections; the second update equals
   the offline reconstruction of a Data Exchange file holding just the newest
   180 degrees of projections (its window) with the same darks and flats.
3. Stream V2 built with cbor2 (an encoder independent of sira's): a dark
   series, a flat series, then a projection series whose angles come in its
   start's user_data angles_deg; the darks and flats carry over; a projection
   with a malformed user_data angle is rejected and counted, the rest equals
   the offline result.
4. --rows the detector does not have: every image is rejected (size), counted,
   logged, and the service carries on to the end of the series.
5. Flats sent after the projections: the first reconstruction cannot be built
   as the projections arrive; the fall-back (the whole window at the end of the
   series) is logged once and still equals the offline result bit for bit.
In 1 to 3 the first reconstruction is built as the projections arrive (no
fall-back logged), so it is that path that equals the offline result.

The projections come from an analytic phantom (disks: exact line integrals),
not from sira's projector."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import SIRA, Serve, Subscriber, check, finish, free_port, push_socket, sira, v2_image  # noqa: E402
import cbor2  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402

work = tempfile.mkdtemp(prefix="sira_serve_projections_")
m3 = os.path.join(work, "m3.sira")
sira("init", "-q", "-o", m3, "--slices", "3", "--seed", "21")
rng = np.random.default_rng(5)
ROWS, COLS = 6, 48
DISKS = [(0.0, 0.0, 18.0, 0.004), (6.0, -4.0, 6.0, 0.01), (-8.0, 7.0, 4.0, 0.02)]  # x, y, radius, mu per pixel


def line_integrals(theta_deg, row):
    """Exact parallel-beam line integrals of the disks (scaled per row) at detector
    offsets s = column - centre."""
    s = np.arange(COLS) - (COLS - 1) / 2.0
    p = np.zeros((len(theta_deg), COLS))
    for a, t in enumerate(np.deg2rad(theta_deg)):
        for x, y, r, mu in DISKS:
            d = s - (x * np.cos(t) + y * np.sin(t))
            p[a] += 2 * mu * (1 + 0.2 * row) * np.sqrt(np.clip(r * r - d * d, 0, None))
    return p


def write_scan(path, theta_deg, projections=None, darks=None, flats=None):
    """Data Exchange file: uint16 counts of the phantom (or the given arrays)."""
    if projections is None:
        p = np.stack([line_integrals(theta_deg, r) for r in range(ROWS)], axis=1)  # angles x rows x cols
        flat_level, dark_level = 20000.0, 100.0
        projections = rng.poisson(flat_level * np.exp(-p)) + dark_level + rng.normal(0, 3, p.shape)
        projections = projections.clip(0, 65535).astype(np.uint16)
        darks = (dark_level + rng.normal(0, 3, (3, ROWS, COLS))).clip(0).astype(np.uint16)
        flats = (rng.poisson(flat_level, (4, ROWS, COLS)) + dark_level).astype(np.uint16)
    with h5py.File(path, "w") as f:
        f["exchange/data"] = projections
        f["exchange/data_dark"] = darks
        f["exchange/data_white"] = flats
        f["exchange/theta"] = np.asarray(theta_deg, np.float64)
    return projections, darks, flats


def offline(scan, rows, name):
    rec, den = os.path.join(work, name + "_rec.npy"), os.path.join(work, name + "_den.npy")
    sira("recon", "-q", "-i", scan, "-o", rec, "--rows", rows, "--threads", "2")
    sira("denoise", "-q", "-m", m3, "-i", rec, "-o", den, "--threads", "2")
    return np.load(den)


def run(scan, *args, protocol="stream-v2", name):
    inp, out = free_port(), free_port()
    live = os.path.join(work, name + ".h5")
    serve = Serve(work, "-m", m3, "--mode", "projections", "--input", f"tcp://127.0.0.1:{inp}", "--protocol", protocol,
                  "--push-bind", f"tcp://127.0.0.1:{out}", "-o", live, "--threads", "2", "--exit-after", "1", *args,
                  name=name)
    sub = Subscriber(f"tcp://127.0.0.1:{out}")
    sim_args = ["--compression", "bslz4"] if protocol == "stream-v2" else []
    p = subprocess.run([SIRA, "stream-sim", "-q", "-i", scan, "--bind", f"tcp://127.0.0.1:{inp}", "--protocol",
                        protocol, "--rate", "0", *sim_args], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"{name}: stream-sim exits 0 ({p.stderr.strip()[-300:]})")
    code, counters = serve.wait()
    sub.close()
    check(code == 0, f"{name}: sira serve exits 0 after the series (log: {serve.log_text()[-500:]})")
    return sub.results, counters, live


# ---- 1. 180 degrees, one reconstruction -----------------------------------------
theta = np.arange(90) * 2.0  # 0..178: 180 degrees with the step
scan = os.path.join(work, "scan180.h5")
write_scan(scan, theta)
expected = offline(scan, "1:5", "o180")
results, counters, live = run(scan, "--rows", "1-4", name="p180")
check(len(results) == 4, f"one reconstruction of the 4 requested rows is published ({len(results)} slices)")
check([h["row"] for h, _ in results] == [1, 2, 3, 4] and all(h["update"] == 0 for h, _ in results),
      "the slices are rows 1..4 of update 0")
check(all(h["projections"] == 90 for h, _ in results), "the reconstruction used all 90 projections")
for i, (h, img) in enumerate(results[:4]):
    check(img.shape == expected[i].shape and np.array_equal(img, expected[i]),
          f"row {h['row']} equals offline sira recon + sira denoise bit for bit "
          f"(max diff {np.abs(img - expected[i]).max() if img.shape == expected[i].shape else 'shape'})")
frames = 3 + 4 + 90
check(counters is not None and counters["received"] == frames and counters["published"] == frames and
      counters["dropped"] == 0 and counters["rejected"] == 0,
      f"received = published = {frames} darks + flats + projections, none dropped ({counters})")
check(counters["updates"] == 1 and counters["reconstructed"] == 4 and counters["results"] == 4,
      "counters: 1 update, 4 slices reconstructed and sent")
with h5py.File(live, "r", libver="latest", swmr=True) as f:
    g = f["series_1"]
    check(list(g["image_id"][...]) == [1, 2, 3, 4] and np.array_equal(g["data"][...], expected),
          "the HDF5 file holds the 4 rows, equal to the offline result")
FALLBACK = "not built as projections arrive"
check(FALLBACK not in open(os.path.join(work, "p180.log")).read(),
      "p180: the first reconstruction was built as the projections arrived (no fall-back logged)")
# The preview lane never displaces the per-projection steps: the same result.
results, counters, _ = run(scan, "--rows", "1-4", "--lane", "preview", name="p180preview")
check(len(results) == 4 and all(np.array_equal(img, expected[i]) for i, (_, img) in enumerate(results)) and
      counters["published"] == frames and counters["dropped"] == 0,
      f"preview lane: the 4 rows equal the offline result bit for bit, all {frames} frames published ({counters})")

# ---- 2. 360 degrees, rolling updates every 30 projections -------------------------
theta = np.arange(180) * 2.0  # 0..358
scan = os.path.join(work, "scan360.h5")
projections, darks, flats = write_scan(scan, theta)
results, counters, _ = run(scan, "--rows", "0-3", "--update-every", "30", protocol="array-1.0", name="p360")
updates = sorted({h["update"] for h, _ in results})
check(updates == [0, 1, 2, 3] and len(results) == 16,
      f"updates after 90, 120, 150 and 180 projections, 4 rows each ({updates}, {len(results)} slices)")
check([h["last_image_id"] for h, _ in results if h["row"] == 0] == [7 + 89, 7 + 119, 7 + 149, 7 + 179],
      "each update ends at the projection that triggered it (ids after 3 darks + 4 flats)")
window = os.path.join(work, "window.h5")
write_scan(window, theta[30:120], projections[30:120], darks, flats)  # update 1: projections 30..119
expected = offline(window, "0:4", "owin")
second = [img for h, img in results if h["update"] == 1]
check(len(second) == 4 and all(h["projections"] == 90 for h, _ in results),
      "every update reconstructs the newest 90 projections (180 degrees)")
check(len(second) == 4 and all(np.array_equal(a, b) for a, b in zip(second, expected)),
      "update 1 equals the offline reconstruction + denoise of projections 30..119 bit for bit")
check(counters["received"] == 3 + 4 + 180 and counters["published"] == counters["received"] and
      counters["dropped"] == 0 and counters["updates"] == 4,
      f"received = published over the rolling updates ({counters})")
check(FALLBACK not in open(os.path.join(work, "p360.log")).read(), "p360: no fall-back logged")

# ---- 3. cbor2-built dark, flat and projection series -----------------------------
theta = np.arange(60) * 3.0  # 0..177
scan = os.path.join(work, "scan_cbor.h5")
projections, darks, flats = write_scan(scan, theta)
expected = offline(scan, "2:5", "ocbor")
inp, out = free_port(), free_port()
serve = Serve(work, "-m", m3, "--mode", "projections", "--rows", "2-4", "--input", f"tcp://127.0.0.1:{inp}",
              "--push-bind", f"tcp://127.0.0.1:{out}", "--threads", "2", "--exit-after", "3", name="pcbor")
sub = Subscriber(f"tcp://127.0.0.1:{out}")
push = push_socket(inp)


def start(series, n, user):
    return cbor2.dumps({"type": "start", "series_id": series, "series_unique_id": f"c{series}", "image_size_x": COLS,
                        "image_size_y": ROWS, "number_of_images": n, "channels": ["threshold_1"], "user_data": user})


def end(series):
    return cbor2.dumps({"type": "end", "series_id": series, "series_unique_id": f"c{series}"})


def with_user_data(message, user):
    d = cbor2.loads(message)
    d["user_data"] = user
    return cbor2.dumps(d)


push.send(start(10, len(darks), {"image_type": "dark"}))
for i, d in enumerate(darks):
    push.send(v2_image(10, i, d))
push.send(end(10))
push.send(start(11, len(flats), {"image_type": "flat"}))
for i, f in enumerate(flats):
    push.send(v2_image(11, i, f))
push.send(end(11))
push.send(start(12, len(theta), {"angles_deg": [float(t) for t in theta]}))
push.send(with_user_data(v2_image(12, 999, projections[0]), {"angle_deg": "north"}))  # malformed: rejected
for i, p in enumerate(projections):
    push.send(v2_image(12, i, p))
push.send(end(12))
code, counters = serve.wait()
sub.close()
push.close()
check(code == 0, "pcbor: sira serve exits 0 after three series")
check(len(sub.results) == 3 and all(np.array_equal(img, expected[i]) for i, (_, img) in enumerate(sub.results)),
      "rows 2..4 from a dark series, a flat series and start angles equal the offline result bit for bit")
check(counters["rejected_by"]["message"] == 1 and counters["received"] == 3 + 4 + 60 + 1 and
      counters["published"] == 3 + 4 + 60 and counters["dropped"] == 0,
      f"the malformed angle is rejected; received = published + rejected ({counters})")
check(FALLBACK not in open(os.path.join(work, "pcbor.log")).read(), "pcbor: no fall-back logged")

# ---- 4. rows the detector does not have ---------------------------------------------
results, counters, _ = run(os.path.join(work, "scan180.h5"), "--rows", "4-9", name="pbadrows")
check(results == [] and counters["rejected_by"]["size"] == 97 and counters["received"] == 97 and
      counters["published"] == 0, f"--rows 4-9 of a 6-row detector: all 97 images rejected (size) ({counters})")
check("--rows 4-9" in open(os.path.join(work, "pbadrows.log")).read(), "the log names --rows")

# ---- 5. flats after the projections: the whole-window fall-back ---------------------
inp, out = free_port(), free_port()
serve = Serve(work, "-m", m3, "--mode", "projections", "--rows", "2-4", "--input", f"tcp://127.0.0.1:{inp}",
              "--push-bind", f"tcp://127.0.0.1:{out}", "--threads", "2", "--exit-after", "1", name="plateflat")
sub = Subscriber(f"tcp://127.0.0.1:{out}")
push = push_socket(inp)
push.send(start(20, len(darks) + len(theta) + len(flats), {"angles_deg": [float(t) for t in theta]}))
image_id = 0
for kind, frames in (("dark", darks), ("projection", projections), ("flat", flats)):
    for f in frames:
        push.send(with_user_data(v2_image(20, image_id, f), {"image_type": kind}))
        image_id += 1
push.send(end(20))
code, counters = serve.wait()
sub.close()
push.close()
log = open(os.path.join(work, "plateflat.log")).read()
check(code == 0 and len(sub.results) == 3 and
      all(np.array_equal(img, expected[i]) for i, (_, img) in enumerate(sub.results)),
      "flats after the projections: rows 2..4 equal the offline result bit for bit")
check(log.count(FALLBACK) == 1 and "no flat field before the first projection" in log,
      "the fall-back to the whole-window reconstruction is logged once, with its reason")
check(counters["received"] == image_id and counters["published"] == image_id and counters["dropped"] == 0,
      f"received = published = {image_id} ({counters})")
finish()
