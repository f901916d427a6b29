"""sira serve / stream-sim compression and typed arrays against independent
oracles: the HDF5 bitshuffle (32008) and LZ4 (32004) filter plugins of Debian's
bitshuffle and hdf5-filter-plugin packages, through h5py, and cbor2.

1. Decoding: Stream V2 messages built with cbor2 around the raw chunks the
   plugins write (bslz4, lz4) and plain typed arrays (tags 64, 69, 70), for
   uint8 37x45 (n % 8 != 0), uint16 70x90 (two bitshuffle blocks) and uint32
   33x40, go to sira serve; what it publishes equals the offline
   `sira denoise` of the same images bit for bit, so every sample was decoded.
2. Encoding: `sira stream-sim --compression bslz4|lz4` messages, taken apart
   with cbor2, decompress through the plugins to the replayed stack."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import (Serve, Subscriber, bslz4_chunk, check, denoise_offline, filter_decode, finish,  # noqa: E402
                        free_port, lz4_chunk, push_socket, sira, v2_end, v2_image, v2_start)
import cbor2  # noqa: E402
import numpy as np  # noqa: E402
import zmq  # noqa: E402

work = tempfile.mkdtemp(prefix="sira_serve_codecs_")
model = os.path.join(work, "m1.sira")
sira("init", "-q", "-o", model, "--slices", "1", "--seed", "5")
rng = np.random.default_rng(14)

# ---- 1. sira decodes what the plugins encode ---------------------------------
series = [  # (dtype, shape, peak)
    (np.uint8, (37, 45), 255),
    (np.uint16, (70, 90), 4000),   # 6300 elements: two 4096-element bitshuffle blocks
    (np.uint32, (33, 40), 1 << 24),  # exact in float32
]
in_port, out_port = free_port(), free_port()
push = push_socket(in_port)
serve = Serve(work, "-m", model, "--input", f"tcp://127.0.0.1:{in_port}", "--push-bind",
              f"tcp://127.0.0.1:{out_port}", "--threads", "2", "--exit-after", str(len(series)))
sub = Subscriber(f"tcp://127.0.0.1:{out_port}")
expected = {}  # (series, image id) -> offline result
for s, (dtype, shape, peak) in enumerate(series, start=1):
    imgs = (rng.random((3, *shape)) * peak).astype(dtype)
    offline = denoise_offline(model, imgs, work)
    push.send(v2_start(s, *shape, 3))
    for i, (img, how) in enumerate(zip(imgs, ["bslz4", "lz4", "plain"])):
        if how == "bslz4":
            msg = v2_image(s, i, img, ("bslz4", img.dtype.itemsize, bslz4_chunk(img, work)))
        elif how == "lz4":
            msg = v2_image(s, i, img, ("lz4", 0, lz4_chunk(img, work)))
        else:
            msg = v2_image(s, i, img)
        push.send(msg)
        expected[(s, i)] = (offline[i], f"{np.dtype(dtype).name} {shape} {how}")
    push.send(v2_end(s))
code, counters = serve.wait()
sub.close()
check(code == 0, f"serve exits 0 after {len(series)} series (log: {serve.log_text()[-400:]!r})")
got = {(h["series_id"], h["frame"]): img for h, img in sub.results}
for key, (want, what) in expected.items():
    check(key in got and np.array_equal(got[key], want),
          f"series {key[0]} image {key[1]} ({what}): published equals offline sira denoise bit for bit")
check(counters is not None and counters["published"] == len(expected) and counters["rejected"] == 0,
      f"counters: {len(expected)} published, none rejected ({counters})")
push.close(0)

# ---- 2. the plugins decode what sira stream-sim encodes ----------------------
stack = (rng.random((4, 50, 61)) * 60000).astype(np.uint16)
stack_path = os.path.join(work, "stack.npy")
np.save(stack_path, stack)
for algo, fid, opts in [("bslz4", 32008, (0, 2)), ("lz4", 32004, (0,))]:
    port = free_port()
    pull = zmq.Context.instance().socket(zmq.PULL)
    pull.connect(f"tcp://127.0.0.1:{port}")
    pull.RCVTIMEO = 30000
    import subprocess
    sim = subprocess.Popen([os.environ["SIRA"], "stream-sim", "-q", "-i", stack_path, "--bind",
                            f"tcp://127.0.0.1:{port}", "--rate", "0", "--compression", algo, "--series-id", "9",
                            "--first-id", str((1 << 40) + 1)])
    msgs = [cbor2.loads(pull.recv()) for _ in range(stack.shape[0] + 2)]
    check(sim.wait(timeout=60) == 0, f"stream-sim {algo} exits 0")
    pull.close(0)
    start, images, end = msgs[0], msgs[1:-1], msgs[-1]
    check(start["type"] == "start" and start["series_id"] == 9 and start["image_size_x"] == 61
          and start["image_size_y"] == 50 and start["number_of_images"] == 4, f"{algo}: start message fields")
    check(end["type"] == "end" and end["series_id"] == 9, f"{algo}: end message")
    for k, m in enumerate(images):
        arr = m["data"]["threshold_1"]
        typed = arr.value[1]
        comp = typed.value
        ok = (m["type"] == "image" and m["image_id"] == (1 << 40) + 1 + k and arr.tag == 40
              and arr.value[0] == [50, 61] and typed.tag == 69 and comp.tag == 56500 and comp.value[0] == algo)
        decoded = filter_decode(comp.value[2], (50, 61), np.uint16, fid, opts, work) if ok else None
        check(ok and np.array_equal(decoded, stack[k]),
              f"{algo}: image {k} (64-bit id) decodes with the HDF5 filter plugin to the replayed slice")
finish()
