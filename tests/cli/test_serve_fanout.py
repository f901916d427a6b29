"""sira fanout: one ingest, `sira serve --worker` processes, results in input order
(docs/scale.md, "Live fan-out"), all on loopback:

1. stream-sim (Stream V2, as fast as it is taken) -> fanout -> 2 workers -> PULL
   subscriber and the live HDF5 file: every image id exactly once, in input
   order, each equal to offline `sira denoise` bit for bit; both workers did
   some of the work; received = published, nothing dropped.
2. SIGKILL one worker mid-series: still every id once, in order, equal to the
   offline result; its unacknowledged images were re-dispatched (counter > 0).
3. A worker stopped (SIGSTOP) longer than --worker-timeout, then continued: it is
   declared dead, its images go to the other, its late results are dropped as
   duplicates (counted), it rejoins; every id once, in order.
4. A malformed frame among good ones (cbor2 encoder): counted as rejected on
   /metrics.json and in the final counters; the good ones are published;
   received = published + dropped + rejected.
5. A 3-slice model (--slices 3): two series, every image sent with its
   neighbours; both series once each, in order, equal to offline `sira denoise`
   of each series bit for bit; a 1-slice worker joining is refused and exits.
6. Refusals: an even --slices, sira serve with neither --input nor --worker,
   both at once."""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import serve_util  # noqa: E402
from serve_util import (SIRA, Serve, Subscriber, check, denoise_offline, finish, free_port, metrics,  # noqa: E402
                        push_socket, sira, v2_end, v2_image, v2_start, wait_until)
import h5py  # noqa: E402
import numpy as np  # noqa: E402

work = tempfile.mkdtemp(prefix="sira_fanout_")
m1, m3 = os.path.join(work, "m1.sira"), os.path.join(work, "m3.sira")
sira("init", "-q", "-o", m1, "--slices", "1", "--seed", "21")
sira("init", "-q", "-o", m3, "--slices", "3", "--seed", "22")
rng = np.random.default_rng(5)


def make_stack(n, h, w, name):
    return serve_util.make_stack(work, n, h, w, name, rng)


sim = serve_util.stream_sim


class Cluster:
    """sira fanout and `workers` workers (1 engine thread each) on loopback."""

    def __init__(self, tag, workers, *fanout_args, timeout_ms=1000, model=m1):
        self.inp, self.out, self.wport = free_port(), free_port(), free_port()
        self.fanout = Serve(work, "--input", f"tcp://127.0.0.1:{self.inp}", "--workers",
                            f"tcp://127.0.0.1:{self.wport}", "--push-bind", f"tcp://127.0.0.1:{self.out}",
                            "--worker-timeout", str(timeout_ms), *fanout_args, name=f"{tag}_fanout",
                            command="fanout")
        self.workers = [Serve(work, "-m", model, "--worker", f"tcp://127.0.0.1:{self.wport}", "--threads", "1",
                              name=f"{tag}_worker{k}") for k in range(workers)]
        self.sub = Subscriber(f"tcp://127.0.0.1:{self.out}")
        ready = wait_until(lambda: self.fanout.log_text().count(") ready, credit") >= workers, 60)
        check(ready, f"{tag}: {workers} workers joined the ingest ({self.fanout.log_text()!r})")

    def stop_workers(self):
        return [w.stop() if w.proc.poll() is None else w.wait() for w in self.workers]


# ---- 1. two workers, every id once, in order, bit for bit ----------------------------
stack, spec = make_stack(40, 64, 72, "recon.h5")
offline = denoise_offline(m1, stack, work, threads="1")
live = os.path.join(work, "live.h5")
c = Cluster("two", 2, "-o", live, "--exit-after", "1")
p = sim(spec, c.inp, "--compression", "bslz4", "--rate", "0")
check(p.wait(timeout=120) == 0, "stream-sim exits 0")
code, counters = c.fanout.wait()
c.sub.wait_for(40, 10)
c.sub.close()
worker_counters = [wc for _, wc in c.stop_workers()]
check(code == 0, "fanout exits 0 after the series (--exit-after 1)")
check(c.sub.ids() == list(range(40)), f"two workers: ids 0..39 once each, in order ({c.sub.ids()})")
check(len(c.sub.results) == 40 and all(np.array_equal(img, offline[h["frame"]]) for h, img in c.sub.results),
      "two workers: every published image equals offline sira denoise bit for bit")
with h5py.File(live, "r", libver="latest", swmr=True) as f:
    g = f[[k for k in f if k.startswith("series_")][0]]
    check(list(g["image_id"][...]) == list(range(40)) and np.array_equal(g["data"][...], offline),
          "the live HDF5 file holds the 40 images in input order, equal to offline sira denoise")
done_by = [wc["published"] if wc else 0 for wc in worker_counters]
check(all(n > 0 for n in done_by) and sum(done_by) == 40, f"both workers denoised some images ({done_by})")
check(counters["received"] == counters["published"] == counters["dispatched"] == 40 and counters["dropped"] == 0
      and counters["redispatched"] == 0, f"counters {counters}")

# ---- 2. SIGKILL a worker mid-series ------------------------------------------------------
# 192^2 images keep the workers busy (each holds its credit of 2) when one is killed.
stack2, spec2 = make_stack(48, 192, 192, "kill.h5")
offline2 = denoise_offline(m1, stack2, work, threads="1")
c = Cluster("kill", 2, "--exit-after", "1")
p = sim(spec2, c.inp, "--rate", "0")
c.sub.wait_for(8, 120)
c.workers[0].proc.kill()
check(p.wait(timeout=180) == 0, "stream-sim exits 0 (kill)")
code, counters = c.fanout.wait(180)
c.sub.wait_for(48, 10)
c.sub.close()
c.stop_workers()
log = c.fanout.log_text()
check(code == 0 and c.sub.ids() == list(range(48)),
      f"a worker killed mid-series: ids 0..47 still once each, in order ({c.sub.ids()})")
check(all(np.array_equal(img, offline2[h["frame"]]) for h, img in c.sub.results),
      "after the kill: every published image equals offline sira denoise bit for bit")
check(counters["redispatched"] > 0 and "declared dead" in log,
      f"the killed worker's unacknowledged images were re-dispatched ({counters['redispatched']})")
check(counters["received"] == counters["published"] == 48 and counters["dropped"] == 0, f"counters {counters}")

# ---- 3. a worker paused longer than the timeout (slow, not dead) ---------------------------
c = Cluster("pause", 2, "--exit-after", "1", timeout_ms=500)
p = sim(spec2, c.inp, "--rate", "0")
c.sub.wait_for(8, 120)
paused = c.workers[0].proc
paused.send_signal(signal.SIGSTOP)
declared = wait_until(lambda: "declared dead" in c.fanout.log_text(), 30)
time.sleep(0.5)  # the other worker takes over the re-dispatched images meanwhile
paused.send_signal(signal.SIGCONT)
# Its late results come before its answer to "who" on the same connection.
rejoined = wait_until(lambda: c.fanout.log_text().count(") ready, credit") >= 3, 60)
check(p.wait(timeout=180) == 0, "stream-sim exits 0 (pause)")
code, counters = c.fanout.wait(180)
c.sub.wait_for(48, 10)
c.sub.close()
c.stop_workers()
log = c.fanout.log_text()
check(declared and code == 0 and c.sub.ids() == list(range(48)),
      f"a paused worker: declared dead, ids 0..47 once each, in order ({c.sub.ids()})")
check(all(np.array_equal(img, offline2[h["frame"]]) for h, img in c.sub.results),
      "after the pause: every published image equals offline sira denoise bit for bit")
check(counters["redispatched"] > 0 and counters["duplicate_results"] > 0,
      f"its images were re-dispatched and its late results dropped as duplicates ({counters})")
check(rejoined, "the continued worker rejoined (who -> ready) before the series ended")

# ---- 4. a malformed frame ---------------------------------------------------------------
mport = free_port()
c = Cluster("bad", 1, "--metrics-bind", f"127.0.0.1:{mport}")
src = push_socket(c.inp)
imgs = stack[:3]
src.send(v2_start(7, 64, 72, 3))
src.send(v2_image(7, 0, imgs[0]))
src.send(b"\xa1\x64type")  # CBOR cut short
src.send(v2_image(7, 1, imgs[1]))
src.send(v2_image(7, 2, imgs[2]))
src.send(v2_end(7))
got = c.sub.wait_for(3, 60)
m = metrics(mport) if got else {}
code, counters = c.fanout.stop()
c.sub.close()
c.stop_workers()
src.close(0)
check(got and c.sub.ids() == [0, 1, 2] and all(np.array_equal(img, offline[h["frame"]])
                                               for h, img in c.sub.results),
      f"the good frames around a malformed one are published in order ({c.sub.ids()})")
check(m.get("rejected_by", {}).get("encoding") == 1 and m.get("workers") == 1,
      f"/metrics.json counts the malformed frame and the worker ({m})")
check(code == 0 and counters["rejected"] == 1 and counters["received"] == 4
      and counters["received"] == counters["published"] + counters["dropped"] + counters["rejected"],
      f"received = published + dropped + rejected ({counters})")
check("rejected (encoding)" in c.fanout.log_text(), "the malformed frame is logged")

# ---- 5. a 3-slice model: each image goes with its neighbours ------------------------------
# Two series in one stream: windows restart at a series' start, its ends repeated,
# as offline sira denoise repeats a stack's.
sa, sb = stack[:11], make_stack(7, 64, 72, "b.h5")[0]
offa, offb = denoise_offline(m3, sa, work, threads="1"), denoise_offline(m3, sb, work, threads="1")
c = Cluster("three", 2, "--slices", "3", "--exit-after", "2", model=m3)
odd = Serve(work, "-m", m1, "--worker", f"tcp://127.0.0.1:{c.wport}", "--threads", "1", name="three_odd")
odd_code, _ = odd.wait(60)
src = push_socket(c.inp)
for series, imgs in ((3, sa), (4, sb)):
    src.send(v2_start(series, 64, 72, len(imgs)))
    for i, img in enumerate(imgs):
        src.send(v2_image(series, i, img))
    src.send(v2_end(series))
code, counters = c.fanout.wait(120)
got = c.sub.wait_for(len(sa) + len(sb), 10)
c.sub.close()
done_by = [wc["published"] if wc else 0 for _, wc in c.stop_workers()]
src.close(0)
res = [(h.get("series_id"), h["frame"], img) for h, img in c.sub.results]
check(got and code == 0 and [(a, b) for a, b, _ in res] == [(3, i) for i in range(11)] + [(4, i) for i in range(7)],
      f"3-slice fan-out: both series' ids once each, in order ({[(a, b) for a, b, _ in res]})")
check(all(np.array_equal(img, (offa if sid == 3 else offb)[i]) for sid, i, img in res),
      "3-slice fan-out: every image equals offline sira denoise of its series with the 3-slice model, bit for bit")
check(all(n > 0 for n in done_by), f"3-slice fan-out: both workers denoised some images ({done_by})")
check(odd_code not in (0, None) and "refused" in odd.log_text() and "--slices" in odd.log_text(),
      f"a 1-slice worker joining a 3-slice fan-out is refused and exits non-zero ({odd.log_text().strip()!r})")
check(counters["received"] == counters["published"] == 18 and counters["workers"] == 2,
      f"3-slice fan-out counters {counters}")

# ---- 6. refusals ------------------------------------------------------------------------
r = subprocess.run([SIRA, "fanout", "--input", "tcp://127.0.0.1:9", "--workers", "tcp://127.0.0.1:9",
                    "--slices", "2"], capture_output=True, text=True, timeout=60)
check(r.returncode != 0 and "odd" in r.stderr, f"an even --slices is refused ({r.stderr.strip()!r})")
r = subprocess.run([SIRA, "serve", "-m", m1], capture_output=True, text=True, timeout=60)
check(r.returncode != 0 and "--input" in r.stderr and "--worker" in r.stderr,
      f"serve without --input or --worker is refused ({r.stderr.strip()!r})")
r = subprocess.run([SIRA, "serve", "-m", m1, "--input", "tcp://127.0.0.1:9", "--worker", "tcp://127.0.0.1:9"],
                   capture_output=True, text=True, timeout=60)
check(r.returncode != 0 and "excludes" in r.stderr, f"--input with --worker is refused ({r.stderr.strip()!r})")
finish()
