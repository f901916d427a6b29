"""The real scans of the validation and the degradations simulated on them.

Every source is a real measurement in ../shared/data/real (see its README for
provenance and licences). Its clean reference is the reconstruction of all its
projections at the measured dose; each degradation is simulated in the
projection domain by `sira pairs` (binomial thinning of the measured counts,
or keeping every k-th angle), then reconstructed the same way. Nothing here
is tuned on the result: the centres are found automatically, and the fluxes
(photons per pixel at full dose, for the scans stored as line integrals) were
estimated once from each scan's own noise -- the variance of the
reconstruction's high-pass residual against the variance that a flux would
give -- never from a model's score. A raw-count scan's flux is its count level.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    name: str                 # short name used in tables and by the fold rules
    file: str                 # file name in the real-data folder
    instrument: str           # what kind of scan, for the tables
    args: tuple = ()          # `sira pairs` arguments that read it correctly
    rows: tuple = ()          # groups of consecutive detector rows to score (centre row scored); () = every row
    train_args: tuple = field(default=())  # extra `sira pairs` arguments when it is training data
    # Pre-processing of the evaluation's reconstructions, as a careful user would read the scan
    # (docs/tomography-data.md "Pre-processing"); the training pairs of the shipped models were
    # made before it existed and go without.
    prep: tuple = field(default=())


SOURCES = [
    Source("tooth", "tooth_aps.h5", "synchrotron x-ray (APS), 181 angles",
           ("--flux", "28000")),
    Source("dendrite", "dendrite_sinogram.h5", "synchrotron x-ray, 360 angles",
           ("--scale", "0.001", "--subtract-first-angle", "--flux", "4300")),
    Source("shale", "shale_sinogram_xlearn.tif", "synchrotron x-ray (xlearn), 181 angles",
           ("--theta", "0:180", "--scale", "0.01", "--flux", "54000")),
    Source("neutron360", "neutron_sinogram_360.tif", "neutron, 459 angles over 360 deg",
           ("--raw-counts", "--theta", "0:360", "--flux", "21000"),
           prep=("--fix-dead-pixels",)),  # two dead columns draw arcs in the clean slice
    Source("beads", "neutron_beads_ct_psi.h5", "neutron CT (PSI), 376 angles over 360 deg, 3-D",
           ("--flux", "1100"),
           rows=tuple((r - 1, r, r + 1) for r in range(8, 128, 16)),
           prep=("--remove-zingers",)),  # ~0.4 % gamma spots streak the clean slices
    Source("wood", "wood_sinogram_neutron.tif", "neutron, 625 angles over 360 deg",
           ("--theta", "0:360", "--flux", "24000")),
]

BY_NAME = {s.name: s for s in SOURCES}


@dataclass(frozen=True)
class Degradation:
    name: str
    family: str     # low | verylow | sparse: the acceptance is per family
    args: tuple     # `sira pairs` arguments


DEGRADATIONS = [
    Degradation("low", "low", ("--dose", "0.1")),
    Degradation("verylow", "verylow", ("--dose", "0.02")),
    Degradation("sparse4", "sparse", ("--dose", "1", "--sparse", "4")),
    Degradation("sparse8", "sparse", ("--dose", "1", "--sparse", "8")),
]

DEGRADATION_BY_NAME = {d.name: d for d in DEGRADATIONS}
