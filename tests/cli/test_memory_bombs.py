"""Memory bombs (issue 13, item 4): tiny files whose headers declare huge images.
Each is rebuilt here from its description and given to sira under an address-space
limit (RLIMIT_AS, what `ulimit -v` sets) far below what the declared size needs;
sira must refuse it fast, with exit code 1 (not a signal), a message naming the
file and saying what it declares against what it holds, and no output left.
The limit is checked to be enough for a real run: a 256x256 image converts under it.
And the acceptance's "never more than 2x the memory its real content needs": each
refusal's peak RSS (sira and its pre-flight child: wait4's rusage) is at most twice
that of the same command on a valid 8x8 file of the same format. Also: the sample budget (SIRA_MAX_SAMPLES) refuses a real image above it and
accepts it when raised."""
import os
import resource
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

import h5py
import numpy as np

from sira_cli import SANITIZED, SIRA  # noqa: E402
LIMIT = 1 << 30  # 1 GiB of address space: 256x the largest real content here


def limited():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


class Result:
    def __init__(self, returncode, stderr, peak_rss_mb):
        self.returncode, self.stderr, self.peak_rss_mb = returncode, stderr, peak_rss_mb


def run(args, env=None):
    """Runs sira; the result carries the peak RSS of sira and its children."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as err:
        # ASan reserves terabytes of shadow memory: no address-space limit under it.
        p = subprocess.Popen([SIRA, *args], stdout=subprocess.DEVNULL, stderr=err,
                             preexec_fn=None if SANITIZED else limited, env={**os.environ, **(env or {})})
        timer = threading.Timer(120, p.kill)
        timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    return Result(p.returncode, stderr, usage.ru_maxrss / 1024), time.monotonic() - t0


def tiff(entries, data=b"", data_at=None):
    """A little-endian classic TIFF: one IFD of (tag, type, value) after the header,
    `data` after it; a value None is replaced by the data's offset."""
    n = len(entries)
    ifd_size = 2 + 12 * n + 4
    offset = 8 + ifd_size if data_at is None else data_at
    out = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", n)
    for tag, typ, value in sorted(entries):
        value = offset if value is None else value
        fmt = "<HHI" + ("HH" if typ == 3 else "I")
        out += struct.pack(fmt, tag, typ, 1, *((value, 0) if typ == 3 else (value,)))
    out += struct.pack("<I", 0)
    return out + data


def png(width, height, idat):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def main(tmp):
    j = lambda name: os.path.join(tmp, name)
    failures = []

    # 150-byte TIFF declaring 65536 x 65536 8-bit in one uncompressed strip of 16 bytes.
    strip_tiff = tiff([(256, 4, 65536), (257, 4, 65536), (258, 3, 8), (259, 3, 1), (262, 3, 1),
                       (273, 4, None), (277, 3, 1), (278, 4, 65536), (279, 4, 16)], b"\0" * 16)
    # 8x8 TIFF with 16384 x 16384 tiles (one tile of 64 bytes stored).
    tile_tiff = tiff([(256, 4, 8), (257, 4, 8), (258, 3, 8), (259, 3, 1), (262, 3, 1),
                      (277, 3, 1), (322, 4, 16384), (323, 4, 16384), (324, 4, None),
                      (325, 4, 64)], b"\0" * 64)
    # Deflate-compressed (the bound is 1032x what the strip holds), 32768 x 32768 from 200 bytes.
    packed = zlib.compress(b"\0" * 100000, 9)[:200]
    deflate_tiff = tiff([(256, 4, 32768), (257, 4, 32768), (258, 3, 8), (259, 3, 8), (262, 3, 1),
                         (273, 4, None), (277, 3, 1), (278, 4, 32768), (279, 4, len(packed))], packed)
    # A strip that points past the end of the file.
    beyond_tiff = tiff([(256, 4, 4096), (257, 4, 4096), (258, 3, 8), (259, 3, 1), (262, 3, 1),
                        (273, 4, 1 << 30), (277, 3, 1), (278, 4, 4096), (279, 4, 4096 * 4096)])
    bombs = {
        "strip65536.tif": strip_tiff,
        "tile16384.tif": tile_tiff,
        "deflate32768.tif": deflate_tiff,
        "beyond.tif": beyond_tiff,
        # A 67-byte PNG declaring 65536 x 65536 8-bit grayscale.
        "huge.png": png(65536, 65536, zlib.compress(b"\0" * 64)),
    }
    assert len(strip_tiff) <= 150 and len(bombs["huge.png"]) < 80, (len(strip_tiff), len(bombs["huge.png"]))
    for name, data in bombs.items():
        open(j(name), "wb").write(data)
    with h5py.File(j("unwritten.h5"), "w") as f:  # chunked, never written: a few KB
        f.create_dataset("d", shape=(65536, 65536), dtype="f4", chunks=(256, 256))
        f.create_dataset("s", shape=(2, 65536, 65536), dtype="u2", chunks=(1, 256, 256))
        f.create_dataset("z", shape=(2, 65536, 65536), dtype="f4", chunks=(1, 256, 256),
                         compression="gzip")
    with h5py.File(j("dx.h5"), "w") as f:  # Data Exchange, /exchange/data of (1, 2^40, 1)
        f.create_dataset("exchange/data", shape=(1, 1 << 40, 1), dtype="u2", chunks=(1, 1024, 1))
        f.create_dataset("exchange/data_white", data=np.ones((1, 4, 1), np.uint16))
        f.create_dataset("exchange/theta", data=np.zeros(1))
    with h5py.File(j("dx_unwritten.h5"), "w") as f:  # plausible dims, never written
        f.create_dataset("exchange/data", shape=(1800, 2048, 2048), dtype="u2", chunks=(1, 256, 256))
        f.create_dataset("exchange/data_white", data=np.ones((1, 2048, 2048), np.uint16))
        f.create_dataset("exchange/theta", data=np.linspace(0, 180, 1800))
    print("bomb sizes:", {n: len(d) for n, d in bombs.items()},
          {n: os.path.getsize(j(n)) for n in ("unwritten.h5", "dx.h5", "dx_unwritten.h5")})

    # What the real content needs: the same commands on valid 8x8 files of each format.
    import tifffile
    small = np.arange(64, dtype=np.uint8).reshape(8, 8)
    tifffile.imwrite(j("small.tif"), small, photometric="minisblack")
    from PIL import Image
    Image.fromarray(small).save(j("small.png"))
    with h5py.File(j("small.h5"), "w") as f:
        f.create_dataset("d", data=small.astype(np.float32), chunks=(8, 8))
    with h5py.File(j("dx_small.h5"), "w") as f:  # 8 angles of 2 rows x 16 columns
        f.create_dataset("exchange/data", data=np.full((8, 2, 16), 500, np.uint16))
        f.create_dataset("exchange/data_white", data=np.full((1, 2, 16), 1000, np.uint16))
        f.create_dataset("exchange/data_dark", data=np.zeros((1, 2, 16), np.uint16))
        f.create_dataset("exchange/theta", data=np.linspace(0, 180, 8, endpoint=False))
    needs = {}
    for kind, args in (("tif", ["convert", "-q", "-i", j("small.tif"), "-o", j("b1.npy")]),
                       ("png", ["convert", "-q", "-i", j("small.png"), "-o", j("b2.npy")]),
                       ("h5", ["convert", "-q", "-i", j("small.h5") + ":/d", "-o", j("b3.npy")]),
                       ("dx", ["recon", "-q", "-i", j("dx_small.h5"), "-o", j("b4.tif")])):
        r, _ = run(args)
        if r.returncode != 0:
            failures.append(f"the valid small {kind} file fails: {r.stderr.strip()!r}")
        needs[kind] = r.peak_rss_mb
    print("peak RSS of the valid 8x8 files (MB):", {k: round(v, 1) for k, v in needs.items()})

    cases = [
        (["convert", "-i", j("strip65536.tif"), "-o", j("o1.npy")], "strip65536.tif", "beyond the end"),
        (["convert", "-i", j("tile16384.tif"), "-o", j("o2.npy")], "tile16384.tif", "larger than"),
        (["convert", "-i", j("deflate32768.tif"), "-o", j("o3.npy")], "deflate32768.tif", "hold only"),
        (["convert", "-i", j("beyond.tif"), "-o", j("o4.npy")], "beyond.tif", "beyond the end"),
        (["convert", "-i", j("huge.png"), "-o", j("o5.npy")], "huge.png", "holds only"),
        (["convert", "-i", j("unwritten.h5") + ":/d", "-o", j("o6.npy")], "unwritten.h5", "never written"),
        (["convert", "-i", j("unwritten.h5") + ":/s", "-o", j("o7.tif")], "unwritten.h5", "never written"),
        (["convert", "-i", j("unwritten.h5") + ":/z", "-o", j("o8.h5") + ":/z"], "unwritten.h5", "never written"),
        (["recon", "-i", j("dx.h5"), "-o", j("o9.tif")], "dx.h5", "exceed the limit"),
        (["recon", "-i", j("dx_unwritten.h5"), "-o", j("o10.tif")], "dx_unwritten.h5", "never written"),
    ]
    for args, needle, why in cases:
        r, seconds = run(args)
        out = args[-1].split(".h5:")[0] + (".h5" if ".h5:" in args[-1] else "")
        problems = []
        if r.returncode != 1:
            problems.append(f"rc {r.returncode} (wanted 1{', killed by a signal' if r.returncode < 0 else ''})")
        if f"sira {args[0]}: error:" not in r.stderr or needle not in r.stderr or why not in r.stderr:
            problems.append(f"message lacks {needle!r}/{why!r}")
        if seconds > 20:
            problems.append(f"took {seconds:.1f} s")
        kind = "dx" if args[0] == "recon" else next(k for k in ("tif", "png", "h5") if f".{k}" in args[2])
        if not SANITIZED and r.peak_rss_mb > 2 * needs[kind]:
            problems.append(f"peak RSS {r.peak_rss_mb:.1f} MB > 2x the {needs[kind]:.1f} MB of a valid 8x8 {kind}")
        if os.path.exists(out) or [n for n in os.listdir(tmp) if ".tmp-" in n]:
            problems.append("output or temporary left behind")
        print(("FAIL " if problems else "ok   ") + f"{needle} ({args[0]}, {seconds:.2f} s, {r.peak_rss_mb:.1f} MB): "
              + (r.stderr.strip().splitlines() or [""])[-1][:200])
        if problems:
            failures.append(f"{' '.join(args)}: {'; '.join(problems)}: {r.stderr.strip()!r}")

    # The limit leaves room for real work: a real 256x256 image converts under it,
    # so the refusals above are the checks, not the limit.
    real = np.random.default_rng(1).integers(0, 65535, (3, 256, 256), dtype=np.uint16)
    tifffile.imwrite(j("real.tif"), real, photometric="minisblack")
    r, _ = run(["convert", "-q", "-i", j("real.tif"), "-o", j("real.npy")])
    if r.returncode != 0 or not np.array_equal(np.load(j("real.npy")), real):
        failures.append(f"a real 3x256x256 stack does not convert under the limit: {r.stderr!r}")

    # The sample budget: a read takes at least one 256x256 slice (65536 samples).
    for env, wanted in (({"SIRA_MAX_SAMPLES": "60000"}, 1), ({"SIRA_MAX_SAMPLES": "32k"}, 1),
                        ({"SIRA_MAX_SAMPLES": "1M"}, 0), ({"SIRA_MAX_SAMPLES": "lots"}, 1)):
        r, _ = run(["convert", "-q", "-i", j("real.tif"), "-o", j("budget.npy")], env)
        if r.returncode != wanted or (wanted and "SIRA_MAX_SAMPLES" not in r.stderr):
            failures.append(f"budget {env}: rc {r.returncode}, wanted {wanted}: {r.stderr!r}")
        if wanted and "budget" in r.stderr and "real.tif" not in r.stderr:
            failures.append(f"budget {env}: message does not name the file: {r.stderr!r}")
        if os.path.exists(j("budget.npy")):
            os.remove(j("budget.npy"))
    return failures


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="sira_bombs_") as tmp:
        failures = main(tmp)
    if failures:
        print("\n".join(["FAILED:"] + failures))
        sys.exit(1)
    print("memory bombs: all refused")
