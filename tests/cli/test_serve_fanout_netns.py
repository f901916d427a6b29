"""sira fanout with a worker on "another machine": a network namespace this test
creates (ip netns add) joined to the host by a veth pair with private addresses
of its own (10.213.N.1 on the host side, 10.213.N.2 inside; never any other
address), deleted at the end, also on failure. The ingest binds its workers'
socket on 10.213.N.1 only; one worker runs inside the namespace (ip netns exec),
one on the host. Every image id is published once, in order, equal to offline
`sira denoise` bit for bit, and the worker in the namespace did some of them.
Needs root and a kernel that allows namespaces here: otherwise the test says why
and is skipped (exit 77), it does not pass."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from serve_util import SIRA, Serve, Subscriber, check, denoise_offline, finish, free_port, sira, wait_until  # noqa: E402
import numpy as np  # noqa: E402

pid = os.getpid()
ns, host_if, ns_if = f"sira_fo_{pid}", f"sfo{pid % 100000}h", f"sfo{pid % 100000}n"
net = f"10.213.{pid % 250 + 1}"
host_ip, ns_ip = f"{net}.1", f"{net}.2"


def ip(*args):
    return subprocess.run(["ip", *args], capture_output=True, text=True)


r = ip("netns", "add", ns)
if r.returncode != 0:
    print(f"SKIPPED: cannot create a network namespace here (ip netns add: {r.stderr.strip()}); "
          "the fan-out to another machine is not tested")
    raise SystemExit(77)

procs = []
try:
    for args in (["link", "add", host_if, "type", "veth", "peer", "name", ns_if],
                 ["link", "set", ns_if, "netns", ns],
                 ["addr", "add", f"{host_ip}/30", "dev", host_if],
                 ["link", "set", host_if, "up"],
                 ["-n", ns, "addr", "add", f"{ns_ip}/30", "dev", ns_if],
                 ["-n", ns, "link", "set", ns_if, "up"],
                 ["-n", ns, "link", "set", "lo", "up"]):
        r = ip(*args)
        if r.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    work = tempfile.mkdtemp(prefix="sira_fanout_netns_")
    m1 = os.path.join(work, "m1.sira")
    sira("init", "-q", "-o", m1, "--slices", "1", "--seed", "31")
    rng = np.random.default_rng(7)
    stack = (1000 + 300 * rng.standard_normal((24, 64, 64))).clip(0, 65535).astype(np.uint16)
    npy = os.path.join(work, "stack.npy")
    np.save(npy, stack)
    offline = denoise_offline(m1, stack, work, threads="1")

    inp, out, wport = free_port(), free_port(), free_port()
    fanout = Serve(work, "--input", f"tcp://127.0.0.1:{inp}", "--workers", f"tcp://{host_ip}:{wport}",
                   "--push-bind", f"tcp://127.0.0.1:{out}", "--exit-after", "1", name="fanout", command="fanout")
    procs.append(fanout)
    remote = Serve(work, "-m", m1, "--worker", f"tcp://{host_ip}:{wport}", "--threads", "1", name="remote",
                   prefix=("ip", "netns", "exec", ns))
    local = Serve(work, "-m", m1, "--worker", f"tcp://{host_ip}:{wport}", "--threads", "1", name="local")
    procs += [remote, local]
    sub = Subscriber(f"tcp://127.0.0.1:{out}")
    check(wait_until(lambda: fanout.log_text().count(") ready, credit") >= 2, 60),
          f"both workers joined, one from the namespace ({fanout.log_text()!r})")
    sim = subprocess.run([SIRA, "stream-sim", "-q", "-i", npy, "--bind", f"tcp://127.0.0.1:{inp}", "--rate", "0"],
                         timeout=120)
    code, counters = fanout.wait(120)
    sub.wait_for(24, 10)
    sub.close()
    _, remote_counters = remote.stop()
    local.stop()
    check(sim.returncode == 0 and code == 0 and sub.ids() == list(range(24)),
          f"ids 0..23 once each, in order ({sub.ids()})")
    check(all(np.array_equal(img, offline[h["frame"]]) for h, img in sub.results),
          "every image equals offline sira denoise bit for bit")
    check(bool(remote_counters) and remote_counters["published"] > 0,
          f"the worker in the namespace denoised some images ({remote_counters})")
finally:
    for p in procs:
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait()
    ip("link", "del", host_if)  # deletes its peer too
    ip("netns", "del", ns)
    left = ip("netns", "list").stdout
    check(ns not in left, f"the namespace {ns} is deleted")
finish()
