"""Helpers of the sira serve tests (tests/cli/test_serve_*.py): free loopback
ports, a sira serve process with its log and final counters, a PULL subscriber
thread collecting array-1.0 results, Stream V2 messages built with cbor2 (an
encoder independent of sira's), offline `sira denoise` of the same images, and
the HDF5 filter plugins (bitshuffle 32008, LZ4 32004) as compression oracles."""
import glob
import json
import os
import signal
import socket
import subprocess
import threading
import time

os.environ.setdefault("HDF5_PLUGIN_PATH", os.pathsep.join(
    glob.glob("/usr/lib/*/hdf5/serial/plugins") + glob.glob("/usr/lib/hdf5/serial/plugins")))

import cbor2  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import zmq  # noqa: E402

from sira_cli import SIRA, check, finish, ok  # noqa: E402,F401  (re-exported to the serve tests)

# Sockets keep unsent messages at most 1 s at exit: a test whose sira serve died
# must still end (with the default, infinite linger, the interpreter hung at exit).
zmq.Context.instance().setsockopt(zmq.LINGER, 1000)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sira(*args, timeout=300):
    return ok(*args, timeout=timeout)


def make_stack(work, n, h, w, name, rng):
    """A D x H x W uint16 stack of smooth patterns plus noise in WORK/NAME:/exchange/data."""
    yy, xx = np.mgrid[0:h, 0:w]
    s = np.stack([1000 + 800 * np.sin(xx / 7.0 + z) * np.cos(yy / 5.0) for z in range(n)])
    s = (s + 200 * rng.standard_normal(s.shape)).clip(0, 65535).astype(np.uint16)
    path = os.path.join(work, name)
    with h5py.File(path, "w") as f:
        f["exchange/data"] = s
    return s, path + ":/exchange/data"


def stream_sim(spec, port, *args):
    """`sira stream-sim` sending SPEC from a PUSH bound on loopback PORT."""
    return subprocess.Popen([SIRA, "stream-sim", "-q", "-i", spec, "--bind", f"tcp://127.0.0.1:{port}", *args])


def denoise_offline(model, stack, work, threads="2"):
    """`sira denoise` of a D x H x W array (as float32 .npy): what serve must publish."""
    src, dst = os.path.join(work, "offline_in.npy"), os.path.join(work, "offline_out.npy")
    np.save(src, stack.astype(np.float32))
    sira("denoise", "-q", "-m", model, "-i", src, "-o", dst, "--threads", threads)
    return np.load(dst)


class Serve:
    """sira serve (or another long-running command: sira fanout, a worker under
    `prefix`, e.g. taskset or ip netns exec) in the background; stop() sends a
    signal and returns (code, counters)."""

    def __init__(self, work, *args, name="serve", command="serve", prefix=()):
        self.log_path = os.path.join(work, name + ".log")
        self.out_path = os.path.join(work, name + ".out")
        self.log = open(self.log_path, "w")
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen([*prefix, SIRA, command, *args], stdout=self.out, stderr=self.log)

    def wait(self, timeout=120):
        code = self.proc.wait(timeout=timeout)
        self.log.close()
        self.out.close()
        text = open(self.out_path).read().strip()
        return code, (json.loads(text.splitlines()[-1]) if text else None)

    def stop(self, sig=signal.SIGTERM, timeout=120):
        self.proc.send_signal(sig)
        return self.wait(timeout)

    def log_text(self):
        if not self.log.closed:
            self.log.flush()
        return open(self.log_path).read()


class Subscriber(threading.Thread):
    """Connects a PULL (or SUB) to serve's output and keeps every result in arrival order."""

    def __init__(self, endpoint, kind=zmq.PULL):
        super().__init__(daemon=True)
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(kind)
        if kind == zmq.SUB:
            self.sock.setsockopt(zmq.SUBSCRIBE, b"")
        # Wait until the connection stands: serve binds a moment after it starts, and
        # the preview lane rightly drops what no consumer is connected to take.
        monitor = self.sock.get_monitor_socket(zmq.EVENT_CONNECTED)
        self.sock.connect(endpoint)
        connected = monitor.poll(30000)
        self.sock.disable_monitor()
        monitor.close(0)
        if not connected:
            raise RuntimeError(f"no connection to {endpoint} within 30 s (is sira serve running?)")
        self.results = []  # (header dict, H x W float32)
        self.running = True
        self.start()

    def run(self):
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        while self.running:
            if poller.poll(50):
                parts = self.sock.recv_multipart()
                h = json.loads(parts[0])
                self.results.append((h, np.frombuffer(parts[1], np.float32).reshape(h["shape"])))

    def wait_for(self, n, timeout=60):
        t = time.time() + timeout
        while len(self.results) < n and time.time() < t:
            time.sleep(0.02)
        return len(self.results) >= n

    def close(self):
        self.running = False
        self.join()
        self.sock.close(0)

    def ids(self):
        return [h["frame"] for h, _ in self.results]


def metrics(port, path="/metrics.json"):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        body = r.read().decode()
    return json.loads(body) if path.endswith(".json") else body


def wait_until(pred, timeout=60):
    t = time.time() + timeout
    while time.time() < t:
        if pred():
            return True
        time.sleep(0.05)
    return False


# ---- Stream V2 with cbor2 ---------------------------------------------------

TYPED = {np.dtype(np.uint8): 64, np.dtype(np.uint16): 69, np.dtype(np.uint32): 70, np.dtype(np.float32): 85}


def v2_start(series, h, w, n, channel="threshold_1"):
    return cbor2.dumps({"type": "start", "series_id": series, "series_unique_id": f"t{series}",
                        "image_size_x": w, "image_size_y": h, "number_of_images": n,
                        "channels": [channel], "count_time": 0.1})


def v2_image(series, image_id, img, compression=None, channel="threshold_1", tag=None, payload=None):
    """An image message; `payload` (bytes) replaces the samples or the compressed bytes."""
    img = np.ascontiguousarray(img)
    raw = img.astype(img.dtype.newbyteorder("<")).tobytes()
    if compression is None:
        data = payload if payload is not None else raw
    else:
        algo, elem, blob = compression
        data = cbor2.CBORTag(56500, [algo, elem, payload if payload is not None else blob])
    typed = cbor2.CBORTag(tag if tag is not None else TYPED[img.dtype], data)
    return cbor2.dumps({"type": "image", "series_id": series, "series_unique_id": f"t{series}",
                        "image_id": image_id, "real_time": [1, 10],
                        "data": {channel: cbor2.CBORTag(40, [[img.shape[0], img.shape[1]], typed])}})


def v2_end(series):
    return cbor2.dumps({"type": "end", "series_id": series, "series_unique_id": f"t{series}"})


def filter_chunk(img, filter_id, opts, work):
    """The raw chunk the HDF5 filter plugin writes for `img` (one chunk): the
    bytes Stream V2's tag 56500 carries for bslz4 (32008) or lz4 (32004)."""
    path = os.path.join(work, "chunk.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("d", data=img, chunks=img.shape, compression=filter_id, compression_opts=opts)
    with h5py.File(path, "r") as f:
        mask, raw = f["d"].id.read_direct_chunk((0,) * img.ndim)
    assert mask == 0, "the filter was skipped"
    return raw


def bslz4_chunk(img, work):
    return filter_chunk(img, 32008, (0, 2), work)  # block size 0 = default, 2 = LZ4


def lz4_chunk(img, work):
    return filter_chunk(img, 32004, (0,), work)


def filter_decode(raw, shape, dtype, filter_id, opts, work):
    """Decompresses `raw` with the HDF5 plugin: written as a chunk, read back."""
    path = os.path.join(work, "decode.h5")
    with h5py.File(path, "w") as f:
        d = f.create_dataset("d", shape=shape, dtype=dtype, chunks=shape, compression=filter_id,
                             compression_opts=opts)
        d.id.write_direct_chunk((0,) * len(shape), raw)
    with h5py.File(path, "r") as f:
        return f["d"][...]


def push_socket(port):
    s = zmq.Context.instance().socket(zmq.PUSH)
    s.setsockopt(zmq.LINGER, 5000)
    s.bind(f"tcp://127.0.0.1:{port}")
    return s
