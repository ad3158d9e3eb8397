#!/usr/bin/env python3
"""bench_torch.py - PyTorch's training and inference throughput for the
reference U-Net, the baseline for test/bench/bench_unet.c.

    python3 test/reference/bench_torch.py [-t threads] [-b batch]
        [-n steps] [-m train|infer|both] [config]

Builds the network of CONFIG (default share/unet.yaml) with unet_ref.py's
modules, in float32, channels-last or not as PyTorch picks by default, and
times N steps after two warm-up steps: inference (forward + softmax under
torch.no_grad) and training (forward, cross-entropy, backward, AdamW).
Inference runs first, so each peak RSS printed is that of its own phase.
Prints, as bench_unet does:

    bench: torch_infer_img_per_s V img/s
    bench: torch_infer_peak_rss_mb V MB
    bench: torch_train_img_per_s V img/s
    bench: torch_train_peak_rss_mb V MB
"""
import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch                                    # noqa: E402
import torch.nn.functional as F                 # noqa: E402
import yaml                                     # noqa: E402

from unet_ref import UNet                       # noqa: E402


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("config", nargs="?", default="share/unet.yaml")
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("-b", "--batch", type=int, default=16)
    ap.add_argument("-n", "--steps", type=int, default=3)
    ap.add_argument("-m", "--mode", choices=["train", "infer", "both"],
                    default="both")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    with open(a.config) as f:
        m = yaml.safe_load(f)["model"]
    m.setdefault("norm", "none")
    m.setdefault("activation", "leaky_relu")
    m.setdefault("leaky_alpha", 0.1)
    torch.manual_seed(1)
    net = UNet(m)
    B, S, K = a.batch, m["input_size"], m["classes"]
    x = torch.rand(B, m["in_channels"], S, S) * 2 - 1
    y = torch.randint(0, K, (B, S, S))
    print(f"bench_torch: {a.config}, {S}x{S}, batch {B}, {a.steps} steps, "
          f"{a.threads} threads, torch {torch.__version__}", file=sys.stderr)

    if a.mode != "train":
        net.eval()
        with torch.no_grad():
            for s in range(a.steps + 2):
                if s == 2:
                    t0 = time.perf_counter()
                F.softmax(net(x), dim=1)
        dt = time.perf_counter() - t0
        print(f"bench: torch_infer_img_per_s {B * a.steps / dt:.3f} img/s")
        print(f"bench: torch_infer_peak_rss_mb {peak_rss_mb():.0f} MB",
              flush=True)
    if a.mode != "infer":
        net.train()
        opt = torch.optim.AdamW(net.parameters(), lr=1e-4)
        for s in range(a.steps + 2):
            if s == 2:
                t0 = time.perf_counter()
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()
        dt = time.perf_counter() - t0
        print(f"bench: torch_train_img_per_s {B * a.steps / dt:.3f} img/s")
        print(f"bench: torch_train_peak_rss_mb {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
