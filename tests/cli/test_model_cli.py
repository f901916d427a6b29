"""`sira init` and `sira info` from the command line: the acceptance figures,
reproducibility, help text, and clean failures on bad input."""
import json
import os
import sys
import tempfile

from sira_cli import ok, run as sira


def fails(args, message, usage_error=False):
    """Errors exit 1; command-line usage errors exit with CLI11's non-zero code."""
    r = sira(*args)
    assert (r.returncode == 2) if usage_error else (r.returncode == 1), f"{args}: exit {r.returncode}"
    assert message in r.stderr, f"{args}: {r.stderr!r}"
    assert "Traceback" not in r.stderr and "terminate" not in r.stderr


def main():
    # Acceptance: published TomoGAN, 3 slices, 1024x1024.
    out = ok("info", "--arch", "tomogan", "--slices", "3", "--size", "1024x1024").stdout
    assert "parameters: 694,913" in out, out
    assert "97.2 GMAC" in out, out
    assert "enc.2.conv2" in out and "head.conv2" in out
    j = json.loads(ok("info", "--json").stdout)
    assert j["parameters"] == 694913 and round(j["gmac"], 1) == 97.2 and j["size"] == [1024, 1024]
    assert len([l for l in j["layers"] if l["op"] == "conv"]) == 16

    for cmd, example in [("init", "sira init -o"), ("info", "sira info --arch tomogan")]:
        h = ok(cmd, "--help").stdout
        assert "Examples:" in h and example in h, h

    with tempfile.TemporaryDirectory() as tmp:
        a, b, c = (os.path.join(tmp, n) for n in ("a.sira", "b.sira", "c.sira"))
        r = ok("init", "-o", a, "--slices", "1", "--seed", "4")
        assert "UNTRAINED" in r.stderr
        ok("init", "-o", b, "--slices", "1", "--seed", "4")
        ok("init", "-o", c, "--slices", "1", "--seed", "5")
        assert open(a, "rb").read() == open(b, "rb").read(), "same seed, different file"
        assert open(a, "rb").read() != open(c, "rb").read(), "different seeds, same file"
        assert sorted(os.listdir(tmp)) == ["a.sira", "b.sira", "c.sira"], os.listdir(tmp)

        info = ok("info", "-m", a).stdout
        assert "trained: NO" in info and "info.seed: 4" in info and "per_image" in info
        ja = json.loads(ok("info", "-m", a, "--json", "--size", "100x60").stdout)
        assert ja["slices"] == 1 and ja["trained"] is False and ja["parameters"] == 694913 - 16
        assert ja["size"] == [100, 60]
        assert ok("-q", "init", "-o", c, "--seed", "1").stderr == ""

        # Bad input: exit 1 with a message naming the problem, nothing written.
        fails(["init", "--seed", "1"], "--output is required", usage_error=True)
        fails(["init", "-o", c, "--slices", "2"], "--slices", usage_error=True)
        fails(["init", "-o", os.path.join(tmp, "w.sira"), "--widths", "8,32,64"], "widths '8,32,64'")
        fails(["init", "-o", os.path.join(tmp, "w.sira"), "--widths", "8,0,1,1,1"], "width of enc.0 is 0")
        fails(["init", "-o", os.path.join(tmp, "no", "dir", "x.sira")], "does not exist")
        fails(["info", "-m", os.path.join(tmp, "missing.sira")], "missing.sira: cannot open")
        fails(["info", "--size", "12xa"], "--size '12xa'")
        fails(["info", "-m", a, "--slices", "3"], "cannot be combined with -m")
        bad = os.path.join(tmp, "bad.sira")
        with open(bad, "wb") as f:
            f.write(open(a, "rb").read()[:1000])
        fails(["info", "-m", bad], bad + ": header length")
        with open(bad, "wb") as f:
            f.write(b"GIF89a\x00\x00garbage")
        fails(["info", "-m", bad], bad + ": header length")
        assert not [n for n in os.listdir(tmp) if n.startswith("w.sira")]
    print("ok")


if __name__ == "__main__":
    main()
