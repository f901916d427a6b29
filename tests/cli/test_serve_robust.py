"""sira serve survives and counts every malformed message and every odd series
event, and keeps serving correctly after them.

One Stream V2 run fed by cbor2 messages (an encoder independent of sira's):
joining series 5 mid-way (no start), bad CBOR, a truncated message, a wrong
byte count, an unknown compression, a signed typed array, a corrupt bslz4
stream, a CBOR array instead of a map, a map without "type", a 200-deep
nesting, a duplicate id, out-of-order ids, a 64-bit id, an image of another
size, frames after the end, a stale series after a new start, and a new series
reusing the ids. Then one array-1.0 run with bad JSON, a wrong size, a wrong
dtype and a 3-part message. Expected: the exact count per reason (metrics
endpoint, JSON and Prometheus, and the final counters on stdout), the log
naming each rejected message, received = published + dropped + rejected, the
published ids exactly the accepted ones, and each published image equal to the
offline `sira denoise` of the image sent, bit for bit."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import (Serve, Subscriber, bslz4_chunk, check, denoise_offline, finish, free_port,  # noqa: E402
                        metrics, push_socket, sira, v2_end, v2_image, v2_start, wait_until)
import cbor2  # noqa: E402
import numpy as np  # noqa: E402

work = tempfile.mkdtemp(prefix="sira_serve_robust_")
model = os.path.join(work, "m1.sira")
sira("init", "-q", "-o", model, "--slices", "1", "--seed", "3")
rng = np.random.default_rng(5)
H, W = 40, 48
imgs = (rng.random((12, H, W)) * 3000).astype(np.uint16)
offline = denoise_offline(model, imgs, work)
big = 1 << 40

# (bytes, expectation): expectation is ("pub", series, id, image index) | ("rej", reason) | ("drop", reason) | None
good = v2_image(5, 0, imgs[0])
plan = [
    (v2_image(5, 0, imgs[0]), ("pub", 5, 0, 0)),                      # joins series 5 mid-way
    (b"\xff\x00 not cbor", ("rej", "encoding")),
    (good[:len(good) // 2], ("rej", "encoding")),                       # truncated
    (v2_image(5, 1, imgs[1], payload=imgs[1].tobytes()[:-2]), ("rej", "size")),
    (v2_image(5, 1, imgs[1], ("zstd", 2, b"1234567890123")), ("rej", "compression")),
    (v2_image(5, 1, imgs[1].astype(np.uint8), tag=72), ("rej", "dtype")),  # sint8
    (v2_image(5, 1, imgs[1], ("bslz4", 2, bslz4_chunk(imgs[1], work)[:-9])), ("rej", "compression")),
    (cbor2.dumps([1, 2, 3]), ("rej", "message")),
    (cbor2.dumps({"series_id": 5, "image_id": 1}), ("rej", "message")),
    (b"\x81" * 200 + b"\x00", ("rej", "encoding")),
    (v2_image(5, 1, imgs[1], ("bslz4", 2, bslz4_chunk(imgs[1], work))), ("pub", 5, 1, 1)),
    (v2_image(5, 1, imgs[2]), ("drop", "duplicate")),
    (v2_image(5, 3, imgs[3]), ("pub", 5, 3, 3)),
    (v2_image(5, 2, imgs[2]), ("pub", 5, 2, 2)),                      # out of order
    (v2_image(5, big + 5, imgs[4]), ("pub", 5, big + 5, 4)),            # 64-bit id
    (v2_image(5, 6, imgs[5][:20]), ("rej", "size")),                    # another image size
    (v2_end(5), None),
    (v2_image(5, 7, imgs[6]), ("drop", "after_end")),
    (v2_start(6, H, W, 2), None),
    (v2_image(5, 8, imgs[7]), ("drop", "stale_series")),
    (v2_image(6, 0, imgs[8]), ("pub", 6, 0, 8)),                      # same ids as series 5: a new series
    (v2_image(6, 1, imgs[9]), ("pub", 6, 1, 9)),
    (v2_end(6), None),
]


def expected_counts(plan):
    rej, drop, pub = {}, {}, []
    for _, e in plan:
        if e is None:
            continue
        if e[0] == "rej":
            rej[e[1]] = rej.get(e[1], 0) + 1
        elif e[0] == "drop":
            drop[e[1]] = drop.get(e[1], 0) + 1
        else:
            pub.append(e[1:])
    return rej, drop, pub


def verify(name, plan, counters, prom, sub, log):
    rej, drop, pub = expected_counts(plan)
    received = len([e for _, e in plan if e is not None])
    check(counters["received"] == received, f"{name}: received {counters['received']} == {received}")
    for reason in ["encoding", "message", "size", "compression", "dtype"]:
        check(counters["rejected_by"][reason] == rej.get(reason, 0),
              f"{name}: rejected {reason} {counters['rejected_by'][reason]} == {rej.get(reason, 0)}")
        check(f'sira_serve_rejected_total{{reason="{reason}"}} {rej.get(reason, 0)}\n' in prom,
              f"{name}: Prometheus text has rejected {reason} = {rej.get(reason, 0)}")
    for reason in ["duplicate", "after_end", "stale_series"]:
        check(counters["dropped_by"][reason] == drop.get(reason, 0),
              f"{name}: dropped {reason} {counters['dropped_by'][reason]} == {drop.get(reason, 0)}")
    check(counters["received"] == counters["published"] + counters["dropped"] + counters["rejected"],
          f"{name}: received = published + dropped + rejected ({counters})")
    got = [(h.get("series_id"), h["frame"]) for h, _ in sub.results]
    check(got == [(s, i) for s, i, _ in pub], f"{name}: published ids in order {got} == {[(s, i) for s, i, _ in pub]}")
    by_id = {(h.get("series_id"), h["frame"]): img for h, img in sub.results}
    for s, i, k in pub:
        check((s, i) in by_id and np.array_equal(by_id[(s, i)], offline[k]),
              f"{name}: series {s} image {i} equals offline sira denoise of the image sent")
    nrej = sum(rej.values())
    check(log.count("rejected (") == nrej, f"{name}: the log has one line per rejected message ({nrej})")
    numbers = [n for n, (_, e) in enumerate(plan, 1) if e is not None and e[0] == "rej"]
    check(all(f"message {n}: rejected" in log for n in numbers), f"{name}: the log names messages {numbers}")


in_port, out_port, http_port = free_port(), free_port(), free_port()
push = push_socket(in_port)
serve = Serve(work, "-m", model, "--input", f"tcp://127.0.0.1:{in_port}", "--push-bind",
              f"tcp://127.0.0.1:{out_port}", "--metrics-bind", f"127.0.0.1:{http_port}", "--threads", "2",
              name="v2")
sub = Subscriber(f"tcp://127.0.0.1:{out_port}")
for msg, _ in plan:
    push.send(msg)
n_pub = len(expected_counts(plan)[2])
received = len([e for _, e in plan if e is not None])
check(wait_until(lambda: metrics(http_port)["published"] == n_pub and metrics(http_port)["received"] == received),
      f"stream-v2: the service publishes {n_pub} images and stays up")
live, prom = metrics(http_port), metrics(http_port, "/metrics")
check(serve.proc.poll() is None, "stream-v2: still running after every malformed message")
code, final = serve.stop()
check(code == 0, f"stream-v2: SIGTERM -> exit 0 (got {code})")
check(final == {**live, "latency_ms": final["latency_ms"]},
      "stream-v2: final counters on stdout equal the metrics endpoint's")
sub.close()
verify("stream-v2", plan, live, prom, sub, serve.log_text())
push.close(0)

# ---- array-1.0 ----------------------------------------------------------------
def a1(frame, img, dtype="uint16", shape=None, series=None):
    import json
    h = {"htype": "array-1.0", "shape": list(shape or img.shape), "type": dtype, "frame": frame}
    if series is not None:
        h["series_id"] = series
    return [json.dumps(h).encode(), img.tobytes()]


plan1 = [
    (a1(0, imgs[0]), ("pub", None, 0, 0)),
    ([b"{not json", imgs[1].tobytes()], ("rej", "encoding")),
    (a1(1, imgs[1], shape=(H, W + 1)), ("rej", "size")),
    (a1(1, imgs[1], dtype="int64"), ("rej", "dtype")),
    (a1(1, imgs[1]) + [b"extra"], ("rej", "size")),
    ([b'{"htype": "array-1.0", "shape": [40, 48], "type": "uint16"}', imgs[1].tobytes()], ("rej", "message")),
    (a1(1, imgs[1]), ("pub", None, 1, 1)),
    (a1(1, imgs[1]), ("drop", "duplicate")),
    (a1(2, imgs[2].astype(np.float32), dtype="float32"), ("pub", None, 2, 2)),
]
in_port, out_port, http_port = free_port(), free_port(), free_port()
push = push_socket(in_port)
serve = Serve(work, "-m", model, "--protocol", "array-1.0", "--input", f"tcp://127.0.0.1:{in_port}",
              "--push-bind", f"tcp://127.0.0.1:{out_port}", "--metrics-bind", f"127.0.0.1:{http_port}",
              "--threads", "2", name="a1")
sub = Subscriber(f"tcp://127.0.0.1:{out_port}")
for parts, _ in plan1:
    push.send_multipart(parts)
n_pub = len(expected_counts(plan1)[2])
check(wait_until(lambda: metrics(http_port)["published"] == n_pub and metrics(http_port)["received"] == len(plan1)),
      f"array-1.0: the service publishes {n_pub} images and stays up")
live, prom = metrics(http_port), metrics(http_port, "/metrics")
code, final = serve.stop(sig=2)  # SIGINT
check(code == 0, f"array-1.0: SIGINT -> exit 0 (got {code})")
sub.close()
verify("array-1.0", plan1, live, prom, sub, serve.log_text())
finish()
