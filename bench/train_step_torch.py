"""The training step of `sira train` in PyTorch: the same generator (built by
tests/oracle/sira_torch.py from a sira model file), the same TomoGAN
discriminator (LeakyReLU 0.2 convolutions, dense 64 ReLU, dense 1), the same
losses (BCE with logits, MSE, 1 - SSIM) and Adam, one generator step then
d_steps discriminator steps. Used by bench/train_bench.py as the peer.
Run with Debian's /usr/bin/python3 (torch 1.13)."""
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "oracle"))
import sira_torch  # noqa: E402


class Discriminator(nn.Module):
    def __init__(self, crop):
        super().__init__()
        widths = [(1, 64, 1), (64, 64, 2), (64, 128, 1), (128, 128, 2), (128, 128, 1), (128, 4, 2)]
        layers = []
        for cin, cout, stride in widths:
            layers += [nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.LeakyReLU(0.2)]
        self.features = nn.Sequential(*layers)
        self.dense1 = nn.Linear(4 * (crop // 8) ** 2, 64)
        self.dense2 = nn.Linear(64, 1)

    def forward(self, x):
        return self.dense2(F.relu(self.dense1(self.features(x).flatten(1))))


def ssim(a, b, data_range=1.0):
    """scikit-image's Gaussian SSIM (sigma 1.5, 11 taps) over the valid region."""
    r, sigma = 5, 1.5
    i = torch.arange(-r, r + 1, dtype=a.dtype)
    g = torch.exp(-0.5 * i * i / sigma ** 2)
    g = g / g.sum()
    gx, gy = g.view(1, 1, 1, -1), g.view(1, 1, -1, 1)

    def blur(x):
        return F.conv2d(F.conv2d(x, gx), gy)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    ma, mb = blur(a), blur(b)
    va, vb, cov = blur(a * a) - ma * ma, blur(b * b) - mb * mb, blur(a * b) - ma * mb
    return (((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))).mean()


def time_steps(model_file, crop, batch, iterations, threads, d_steps=2, weights=(20.0, 0.5, 2.0), seed=0):
    """Mean seconds per iteration (after one warm-up iteration) on random crops,
    batch drawing included as in sira train."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    gen = sira_torch.load_module(model_file)[0]
    gen.train()
    slices = gen.cfg.slices
    disc = Discriminator(crop)
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-4)
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-4)
    bce = nn.BCEWithLogitsLoss()
    w_adv, w_mse, w_perc = weights

    def batch_pair():
        return torch.rand(batch, slices, crop, crop), torch.rand(batch, 1, crop, crop)

    times = []
    for it in range(iterations + 1):
        t0 = time.perf_counter()
        x, y = batch_pair()
        opt_g.zero_grad()
        fake = gen(x)
        logits = disc(fake)
        loss = w_adv * bce(logits, torch.ones_like(logits)) + w_mse * F.mse_loss(fake, y) \
            + w_perc * (1.0 - ssim(fake, y))
        loss.backward()
        opt_g.step()
        for _ in range(d_steps):
            x, y = batch_pair()
            with torch.no_grad():
                fake = gen(x)
            opt_d.zero_grad()
            real_logits, fake_logits = disc(y), disc(fake)
            d_loss = bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
            d_loss.backward()
            opt_d.step()
        if it > 0:
            times.append(time.perf_counter() - t0)
    return sum(times) / len(times)


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("model")
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    s = time_steps(a.model, a.crop, a.batch, a.iters, a.threads)
    print(f"pytorch: {s * 1e3:.1f} ms/iteration, {a.batch / s:.2f} crops/s")
