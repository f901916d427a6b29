"""sira.denoise releases the GIL: two Python threads denoising at once both
finish with the result a call alone gives (bit for bit), and while they run,
this (third) thread runs Python code and sees both calls computing at the same
moment (sira.running_calls() == 2: each call counts itself only while it holds
no GIL, so seeing 2 from Python proves the overlap; no timing is asserted)."""
import os
import threading
import time

import numpy as np

import sira
from binding_checks import MODELS, check, finish

model = sira.load_model(os.path.join(MODELS, "tomogan-3slice.sira"))
rng = np.random.default_rng(7)
inputs = [rng.normal(0.5, 0.1, (4, 128, 128)).astype(np.float32) for _ in range(2)]
alone = [sira.denoise(a, model, threads=1) for a in inputs]

results, errors = [None, None], []


def work(k):
    try:
        results[k] = sira.denoise(inputs[k], model, threads=1)
    except Exception as e:  # reported below
        errors.append(repr(e))


threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
for t in threads:
    t.start()
most, polls = 0, 0
while any(t.is_alive() for t in threads):
    most = max(most, sira.running_calls())
    polls += 1
    time.sleep(0.001)
for t in threads:
    t.join()

check(not errors, f"both threads finished without error {errors}")
for k in range(2):
    check(results[k] is not None and np.array_equal(results[k], alone[k]),
          f"thread {k}'s result equals the call alone")
check(most == 2, f"this thread saw both calls computing at once (most seen {most} over {polls} polls)")
check(sira.running_calls() == 0, "no call counted once all returned")
finish()
