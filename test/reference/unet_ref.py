#!/usr/bin/env python3
"""unet_ref.py - an independent PyTorch U-Net that writes a debug state for
the C engine's golden test (test/unit/test_nn_golden.c).

The network is written from the architecture description
(share/doc/design.md, "The network", and the model: keys of the config),
with PyTorch's own modules: Conv2d (padding 1 = SAME), optional
GroupNorm, LeakyReLU, max_pool2d, ConvTranspose2d(kernel 2, stride 2),
torch.cat and a 1x1 Conv2d head; the
loss is F.cross_entropy(weight=w, ignore_index=255), the optimizer
torch.optim.AdamW with weight decay on the conv weights only.

For a fixed seed it draws weights, one batch of inputs, labels (about 10%
ignored) and class weights, then records

    input [B,H,W,C], labels [B,H,W], class_w [K]        (NHWC, as the C API)
    logits [B,H,W,K], loss [1]                           (initial weights)
    every parameter as NAME, its gradient as grad.NAME   (PyTorch layouts)
    losses [3] and every parameter after 3 AdamW steps as step3.NAME

in ONE safetensors file, written here with struct and json only.  Its
__metadata__ holds the model section of the config as YAML ("unet.config",
as in smearseg model files) and the optimizer settings.

    python3 test/reference/unet_ref.py share/unet-tiny.yaml \\
        test/fixtures/golden/unet_tiny_debug.safetensors
"""
import argparse
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml


# --- the network ---------------------------------------------------------------

class Stage(nn.Module):
    """n 3x3 SAME convolutions, each followed by the norm and activation;
    submodules conv0, norm0, conv1, ... as in the C engine's tensor names."""

    def __init__(self, cin, cout, n, norm, groups, slope):
        super().__init__()
        self.n, self.norm, self.slope = n, norm, slope
        for k in range(n):
            setattr(self, f"conv{k}", nn.Conv2d(cin if k == 0 else cout, cout,
                                               3, padding=1))
            if norm == "group":
                setattr(self, f"norm{k}", nn.GroupNorm(groups, cout, eps=1e-5))

    def forward(self, x):
        for k in range(self.n):
            x = getattr(self, f"conv{k}")(x)
            if self.norm == "group":
                x = getattr(self, f"norm{k}")(x)
            x = F.leaky_relu(x, self.slope)
        return x


class UpStage(Stage):
    """A 2x2 stride-2 transposed convolution (with the activation), the
    concat [upsampled, skip] along channels, then a Stage."""

    def __init__(self, cin, cout, n, norm, groups, slope):
        super().__init__(2 * cout, cout, n, norm, groups, slope)
        self.up = nn.ConvTranspose2d(cin, cout, 2, stride=2)

    def forward(self, x, skip):
        x = F.leaky_relu(self.up(x), self.slope)
        return super().forward(torch.cat([x, skip], dim=1))


class UNet(nn.Module):
    def __init__(self, m):
        super().__init__()
        slope = m["leaky_alpha"] if m["activation"] == "leaky_relu" else 0.0
        args = dict(n=m["convs_per_level"], norm=m["norm"],
                    groups=m.get("norm_groups", 8), slope=slope)
        widths = m["widths"]
        self.levels = len(widths)
        cin = m["in_channels"]
        for l, w in enumerate(widths):
            setattr(self, f"enc{l}", Stage(cin, w, **args))
            cin = w
        self.mid = Stage(cin, m["bottleneck"], **args)
        below = m["bottleneck"]
        for l in reversed(range(self.levels)):
            setattr(self, f"dec{l}", UpStage(below, widths[l], **args))
            below = widths[l]
        self.head = nn.Conv2d(widths[0], m["classes"], 1)

    def forward(self, x):                   # x: B,C,H,W
        skips = []
        for l in range(self.levels):
            x = getattr(self, f"enc{l}")(x)
            skips.append(x)
            x = F.max_pool2d(x, 2, 2)
        x = self.mid(x)
        for l in reversed(range(self.levels)):
            x = getattr(self, f"dec{l}")(x, skips[l])
        return self.head(x)                 # B,K,H,W


# --- safetensors, by hand --------------------------------------------------------

def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, numpy array) in file order."""
    dtypes = {np.dtype("float32"): "F32", np.dtype("uint8"): "U8"}
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for name, a in tensors:
        a = np.ascontiguousarray(a)
        b = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dtypes[a.dtype], "shape": list(a.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# --- the debug state -------------------------------------------------------------

def model_yaml(m):
    keys = ["input_size", "in_channels", "classes", "widths", "bottleneck",
            "convs_per_level", "activation", "leaky_alpha", "norm",
            "norm_groups"]
    lines = ["model:"]
    for k in keys:
        if k in m:
            v = m[k]
            v = "[" + ", ".join(map(str, v)) + "]" if isinstance(v, list) else v
            lines.append(f"  {k}: {v}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("config", help="YAML config (its model: section is used)")
    ap.add_argument("output", help="debug state, .safetensors")
    ap.add_argument("--norm", choices=["none", "group"],
                    help="override model.norm")
    ap.add_argument("--groups", type=int, help="override model.norm_groups")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--weight-decay", type=float, default=1e-2)
    a = ap.parse_args()

    with open(a.config) as f:
        m = yaml.safe_load(f)["model"]
    m.setdefault("norm", "none")
    m.setdefault("leaky_alpha", 0.1)
    m.setdefault("activation", "leaky_relu")
    if a.norm:
        m["norm"] = a.norm
    if a.groups:
        m["norm_groups"] = a.groups
    if m["norm"] == "none":
        m.pop("norm_groups", None)

    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    net = UNet(m)
    # non-zero biases and norm affines, so their paths are exercised
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith(".bias"):
                p.uniform_(-0.1, 0.1)
            elif ".norm" in name:
                p.copy_(1 + 0.1 * torch.randn_like(p))

    B, S, K = a.batch, m["input_size"], m["classes"]
    x = torch.rand(B, S, S, m["in_channels"]) * 2 - 1        # NHWC
    labels = torch.randint(0, K, (B, S, S), dtype=torch.uint8)
    labels[torch.rand(B, S, S) < 0.1] = 255
    class_w = 0.5 + 2 * torch.rand(K)

    decay = [p for n, p in net.named_parameters() if p.dim() == 4]
    other = [p for n, p in net.named_parameters() if p.dim() != 4]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": other, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.999), eps=1e-8)

    init = [(n, p.detach().clone()) for n, p in net.named_parameters()]
    losses, logits0, grads0 = [], None, None
    for step in range(3):
        opt.zero_grad()
        logits = net(x.permute(0, 3, 1, 2))
        loss = F.cross_entropy(logits, labels.long(), weight=class_w,
                               ignore_index=255)
        loss.backward()
        if step == 0:
            logits0 = logits.detach().permute(0, 2, 3, 1)    # NHWC
            grads0 = [(n, p.grad.detach().clone())
                      for n, p in net.named_parameters()]
        losses.append(loss.item())
        opt.step()

    t = [("input", x.numpy()), ("class_w", class_w.numpy()),
         ("logits", logits0.numpy()),
         ("loss", np.array([losses[0]], np.float32)),
         ("losses", np.array(losses, np.float32))]
    t += [(n, p.numpy()) for n, p in init]
    t += [("grad." + n, g.numpy()) for n, g in grads0]
    t += [("step3." + n, p.detach().numpy()) for n, p in net.named_parameters()]
    t += [("labels", labels.numpy())]       # last: keeps the F32 data aligned
    meta = {"unet.config": model_yaml(m), "adam.lr": repr(a.lr),
            "adam.weight_decay": repr(a.weight_decay), "adam.beta1": "0.9",
            "adam.beta2": "0.999", "adam.eps": "1e-08",
            "generator": "test/reference/unet_ref.py, torch " +
            torch.__version__}
    write_safetensors(a.output, t, meta)
    nparams = sum(p.numel() for p in net.parameters())
    print(f"{a.output}: {nparams} parameters, losses "
          f"{', '.join(f'{v:.6f}' for v in losses)}", file=sys.stderr)


if __name__ == "__main__":
    main()
