#!/usr/bin/python3
"""Convert a PyTorch TomoGAN state_dict (.pt) into a sira model file.

The state_dict must use sira's names (stem.weight, enc.0.conv1.weight, ...;
see docs/model-format.md); a 'module.' prefix (DataParallel) is stripped and a
checkpoint dict holding 'state_dict' is accepted. Example:

  /usr/bin/python3 scripts/state_dict_to_sira.py generator.pt model.sira \\
      --slices 3 --widths 8,32,64,128,128,64,32,32,16 --upsample bilinear \\
      --norm fixed --offset 0.0012 --scale 350 --trained --info data=shale-2024
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "oracle"))
import sira_torch  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("state_dict", help="PyTorch .pt file with the generator's state_dict")
    p.add_argument("output", help="sira model file to write")
    p.add_argument("--slices", type=int, default=3, choices=[1, 3])
    p.add_argument("--widths", default="8,32,64,128,128,64,32,32,16",
                   help="stem, L encoder widths, bottleneck, L decoder widths, head")
    p.add_argument("--upsample", default="bilinear", choices=["bilinear", "nearest", "transposed"])
    p.add_argument("--norm", default="fixed", choices=["fixed", "per_image"])
    p.add_argument("--offset", type=float, default=0.0, help="fixed: x_net = (x - offset) * scale")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--percentiles", default="0.5,99.5", help="per_image: low,high")
    p.add_argument("--trained", action="store_true", help="mark the model as trained")
    p.add_argument("--info", action="append", default=[], metavar="KEY=VALUE", help="provenance (repeatable)")
    a = p.parse_args(argv)

    cfg = sira_torch.Config.from_widths(a.widths, a.slices, a.upsample)
    sd = torch.load(a.state_dict, map_location="cpu")
    if isinstance(sd, dict) and "state_dict" in sd:
        sd = sd["state_dict"]
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
    module = sira_torch.TomoGAN(cfg)
    try:
        module.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        sys.exit(f"state_dict_to_sira: {a.state_dict} does not match the configuration: {e}")
    for name, t in module.state_dict().items():
        if not torch.isfinite(t).all():
            sys.exit(f"state_dict_to_sira: {a.state_dict}: tensor {name} holds NaN or Inf")
    low, high = (float(x) for x in a.percentiles.split(","))
    norm = sira_torch.Normalization(a.norm, a.offset, a.scale, (low, high))
    info = dict(kv.split("=", 1) for kv in a.info)
    info.setdefault("converted_from", os.path.basename(a.state_dict))
    sira_torch.write_sira(a.output, module, norm, a.trained, info)
    print(f"wrote {a.output}: {sira_torch.parameter_count(module)} parameters")


if __name__ == "__main__":
    main()
