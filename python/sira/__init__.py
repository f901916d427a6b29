"""sira from Python: the TomoGAN denoiser, FBP reconstruction and image metrics
of the sira C++ library on numpy arrays (docs/python.md).

    import sira
    model = sira.load_model("models/tomogan-3slice.sira")
    restored = sira.denoise(recon_volume, model)          # (N, H, W) -> float32 (N, H, W)

Every function is the library's own code (the same calls as the `sira` command),
so `sira.denoise` is bit-identical to `sira denoise` on the same data. Errors
raise sira.Error (RuntimeError) with sira's message, TypeError for an
unsupported dtype and ValueError for a wrong shape or keyword value.
"""
from ._sira import (  # noqa: F401
    Error,
    Model,
    __version__,
    denoise,
    input_copies,
    load_model,
    psnr,
    recon,
    running_calls,
    ssim,
)

__all__ = ["Error", "Model", "load_model", "denoise", "recon", "ssim", "psnr", "input_copies",
           "running_calls", "__version__"]
