"""sira stream-sim -> sira serve -> PULL subscriber on loopback, the live HDF5
file, shutdown and overload:

1. A 3-slice model on a bslz4 Stream V2 replay (no-loss lane): the published
   images and the HDF5 file equal the offline `sira denoise` of the same stack
   bit for bit (neighbours and repeated ends included); an SWMR reader sees the
   file while it grows.
2. array-1.0 in and out (a 1-slice model), published on PUB as well: the PUB
   subscriber gets the same images as the PUSH one; --warm-up runs the engine
   on each size given before the service connects; a bad size is refused;
   the simulator's --preload sends the same messages.
3. SIGKILL mid-series: the HDF5 file opens and holds every image the
   subscriber had received, each equal to the offline result (with and
   without SWMR).
4. SIGTERM mid-series: exit 0, every frame read is published (nothing in
   flight), the subscriber has exactly them, and the file closed cleanly.
5. Overload (the simulator sends as fast as it can, far above what the engine
   sustains): the no-loss lane publishes every id exactly once, in order, with
   nothing dropped; the preview lane drops (counted as superseded), publishes
   increasing ids ending with the last, and received = published + dropped."""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import serve_util  # noqa: E402
from serve_util import (SIRA, Serve, Subscriber, check, denoise_offline, finish, free_port, sira,  # noqa: E402
                        wait_until)
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import zmq  # noqa: E402

work = tempfile.mkdtemp(prefix="sira_serve_live_")
m1, m3 = os.path.join(work, "m1.sira"), os.path.join(work, "m3.sira")
sira("init", "-q", "-o", m1, "--slices", "1", "--seed", "11")
sira("init", "-q", "-o", m3, "--slices", "3", "--seed", "12")
rng = np.random.default_rng(2)


def make_stack(n, h, w, name):
    return serve_util.make_stack(work, n, h, w, name, rng)


sim = serve_util.stream_sim


def read_live(path, swmr):
    with h5py.File(path, "r", libver="latest", swmr=True) if swmr else h5py.File(path, "r") as f:
        g = f[[k for k in f if k.startswith("series_")][0]]
        return g["image_id"][...], g["data"][...]


# ---- 1. 3-slice, bslz4, HDF5 with an SWMR reader ---------------------------------
stack, spec = make_stack(10, 64, 72, "recon.h5")
offline3 = denoise_offline(m3, stack, work)
inp, out = free_port(), free_port()
live = os.path.join(work, "live.h5")
serve = Serve(work, "-m", m3, "--input", f"tcp://127.0.0.1:{inp}", "--push-bind", f"tcp://127.0.0.1:{out}",
              "-o", live, "--threads", "2", "--exit-after", "1", name="s1")
sub = Subscriber(f"tcp://127.0.0.1:{out}")
p = sim(spec, inp, "--compression", "bslz4", "--rate", "8")
seen_growing = None
if sub.wait_for(3):
    # The HDF5 writer may trail the PUSH lane by a row or two on a loaded machine:
    # read again while the series is still being sent.
    deadline = time.time() + 10
    while True:
        try:
            ids, _ = read_live(live, True)
            seen_growing = len(ids)
        except Exception as e:  # noqa: BLE001
            seen_growing = repr(e)
        if (isinstance(seen_growing, int) and seen_growing >= 2) or p.poll() is not None or time.time() > deadline:
            break
        time.sleep(0.05)
check(isinstance(seen_growing, int) and seen_growing >= 2,
      f"an SWMR reader opens the HDF5 file while it grows (rows seen: {seen_growing})")
check(p.wait(timeout=60) == 0, "stream-sim exits 0")
code, counters = serve.wait()
sub.close()
check(code == 0, "serve exits 0 after the series (--exit-after 1)")
check(sub.ids() == list(range(10)), f"3-slice: ids 0..9 published in order ({sub.ids()})")
check(all(np.array_equal(img, offline3[h["frame"]]) for h, img in sub.results) and len(sub.results) == 10,
      "3-slice over bslz4: every published image equals offline sira denoise bit for bit")
ids, data = read_live(live, False)
check(list(ids) == list(range(10)) and np.array_equal(data, offline3),
      "the HDF5 file holds the 10 images in order, equal to offline sira denoise")
check(counters["received"] == counters["published"] == 10 and counters["dropped"] == 0, f"counters {counters}")

# ---- 2. array-1.0 in, PUSH and PUB out ---------------------------------------------
stack1, spec1 = make_stack(6, 48, 56, "small.h5")
offline1 = denoise_offline(m1, stack1, work)
inp, out, pubp = free_port(), free_port(), free_port()
serve = Serve(work, "-m", m1, "--protocol", "array-1.0", "--input", f"tcp://127.0.0.1:{inp}", "--push-bind",
              f"tcp://127.0.0.1:{out}", "--pub-bind", f"tcp://127.0.0.1:{pubp}", "--threads", "2",
              "--exit-after", "1", "--warm-up", "48x56", "--warm-up", "64", name="s2")
sub = Subscriber(f"tcp://127.0.0.1:{out}")
viewer = Subscriber(f"tcp://127.0.0.1:{pubp}", zmq.SUB)
time.sleep(1.0)  # a PUB subscriber sees only what is sent after its subscription arrived
p = sim(spec1, inp, "--protocol", "array-1.0", "--rate", "20", "--preload")
check(p.wait(timeout=60) == 0, "stream-sim array-1.0 exits 0")
code, counters = serve.wait()
sub.wait_for(6, 10)
viewer.wait_for(6, 10)
sub.close()
viewer.close()
check(code == 0 and sub.ids() == list(range(6)), f"array-1.0: ids 0..5 on PUSH ({sub.ids()})")
check(all(np.array_equal(img, offline1[h["frame"]]) and h["type"] == "float32" for h, img in sub.results),
      "array-1.0: every result equals offline sira denoise")
check(viewer.ids() == sub.ids() and all(np.array_equal(a[1], b[1]) for a, b in zip(viewer.results, sub.results)),
      f"the PUB viewer got the same images ({viewer.ids()})")
log = serve.log_text()
warm_lines = [line for line in log.splitlines() if "engine warmed up for" in line]
check(len(warm_lines) == 2 and "48x56" in warm_lines[0] and "64x64" in warm_lines[1]
      and log.index("engine warmed up") < log.index("ready: connected"),
      f"--warm-up: the engine ran each size once before the service connected (log: {log!r})")
for bad in ("0x56", "48y56", "-5", "48x"):
    r = subprocess.run([SIRA, "serve", "-m", m1, "--input", "tcp://127.0.0.1:9", "--warm-up", bad],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and "--warm-up" in r.stderr and bad in r.stderr,
          f"--warm-up {bad!r} is refused naming the option (exit {r.returncode}: {r.stderr.strip()!r})")

# ---- 3. SIGKILL leaves a readable file ------------------------------------------
stackk, speck = make_stack(40, 64, 64, "long.h5")
offlinek = denoise_offline(m1, stackk, work)
for swmr in (True, False):
    inp, out = free_port(), free_port()
    killed = os.path.join(work, f"killed_{swmr}.h5")
    serve = Serve(work, "-m", m1, "--input", f"tcp://127.0.0.1:{inp}", "--push-bind", f"tcp://127.0.0.1:{out}",
                  "-o", killed, "--threads", "2", *([] if swmr else ["--no-swmr"]), name=f"kill{swmr}")
    sub = Subscriber(f"tcp://127.0.0.1:{out}")
    p = sim(speck, inp, "--rate", "15")
    got = sub.wait_for(8)
    serve.proc.kill()
    serve.wait()
    p.kill()
    p.wait()
    time.sleep(0.2)
    sub.close()
    n_sub = len(sub.results)
    try:
        ids, data = read_live(killed, swmr)
        # The publisher sends on PUSH, then appends to the file: the kill may fall between
        # the two for the last image the subscriber got, never for an earlier one.
        ok = got and len(ids) >= n_sub - 1 and all(np.array_equal(data[r], offlinek[i]) for r, i in enumerate(ids))
        what = f"{len(ids)} rows, the subscriber had {n_sub}"
    except Exception as e:  # noqa: BLE001
        ok, what = False, repr(e)
    check(ok, f"SIGKILL ({'SWMR' if swmr else 'no SWMR'}): the HDF5 file opens and every row equals "
              f"offline sira denoise of its image id ({what})")

# ---- 4. SIGTERM drains and closes ---------------------------------------------
inp, out = free_port(), free_port()
drained = os.path.join(work, "drained.h5")
serve = Serve(work, "-m", m1, "--input", f"tcp://127.0.0.1:{inp}", "--push-bind", f"tcp://127.0.0.1:{out}",
              "-o", drained, "--threads", "2", name="term")
sub = Subscriber(f"tcp://127.0.0.1:{out}")
p = sim(speck, inp, "--rate", "0")
sub.wait_for(5)
code, counters = serve.stop(signal.SIGTERM)
p.kill()
p.wait()
time.sleep(0.3)
sub.close()
check(code == 0, f"SIGTERM mid-series: exit 0 (got {code})")
check(counters["received"] == counters["published"] + counters["dropped"] + counters["rejected"]
      and counters["dropped"] == 0 and counters["published"] == len(sub.results),
      f"SIGTERM: every image read was published ({counters['received']} received, "
      f"{counters['published']} published, subscriber {len(sub.results)})")
ids, data = read_live(drained, False)  # opens without SWMR: closed cleanly
check(list(ids) == sub.ids() and all(np.array_equal(data[r], offlinek[i]) for r, i in enumerate(ids)),
      f"SIGTERM: the file is closed and holds the {len(ids)} published images")

# ---- 5. overload ----------------------------------------------------------------
stacko, speco = make_stack(30, 128, 128, "burst.h5")
for lane in ("no-loss", "preview"):
    inp, out = free_port(), free_port()
    serve = Serve(work, "-m", m1, "--input", f"tcp://127.0.0.1:{inp}", "--push-bind", f"tcp://127.0.0.1:{out}",
                  "--lane", lane, "--threads", "2", "--exit-after", "1", name=lane)
    sub = Subscriber(f"tcp://127.0.0.1:{out}")
    t0 = time.time()
    p = sim(speco, inp, "--rate", "0")
    check(p.wait(timeout=120) == 0, f"{lane}: stream-sim exits 0")
    code, counters = serve.wait()
    elapsed = time.time() - t0
    time.sleep(0.3)
    sub.close()
    ids = sub.ids()
    if lane == "no-loss":
        check(code == 0 and ids == list(range(30)) and counters["dropped"] == 0 and counters["published"] == 30,
              f"no-loss under overload: ids 0..29 exactly once, in order, none dropped ({ids}, {counters['dropped_by']})")
    else:
        dropped = counters["dropped_by"]["superseded"]
        check(code == 0 and dropped > 0 and counters["received"] == 30
              and counters["published"] + counters["dropped"] == 30 and len(ids) == counters["published"],
              f"preview under overload: published {counters['published']} + dropped {dropped} = 30 received")
        check(ids == sorted(set(ids)) and ids[-1] == 29, f"preview: increasing ids ending with the last ({ids})")
    print(f"     {lane}: 30 images of 128x128 in {elapsed:.2f} s, latency {counters['latency_ms']}")
finish()
