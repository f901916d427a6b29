#!/usr/bin/python3
"""Real-data validation of sira's denoisers, leave-sources-out, against tuned filters.

For every real scan in the data folder (sources.py) and every degradation
(10 % and 2 % dose by binomial thinning of the measured counts, every 4th and
8th angle), the noisy and clean reconstructions come from `sira pairs`
(eval_data.py). Each is restored by the noisy input itself, every classical
filter grid-tuned on these very slices (baselines.py) and every sira model
that was not trained on the source (models.py). Scores: scikit-image SSIM and
PSNR in the reconstruction's units, data range from the clean image
(metrics.py), per source and degradation, with the macro mean over sources.

  /usr/bin/python3 bench/real_validation --sira build/sira --work rv \\
      --folds tomogan-1slice=rv/folds-1slice --folds int8=rv/folds-1slice@int8 \\
      --markdown rv/table.md --json rv/results.json
  /usr/bin/python3 bench/real_validation --sira build/sira --work rv --sources tooth \\
      --folds tomogan-1slice=rv/folds-1slice --adapt adapted=rv/folds-1slice --adapt-minutes 8
  /usr/bin/python3 bench/real_validation --model old=models/tomogan-1slice.sira \\
      --seen old=tooth_aps.h5,dendrite_sinogram.h5,neutron_sinogram_360.tif --allow-seen
"""
import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import adapt as adaptation  # noqa: E402
import background  # noqa: E402
import baselines  # noqa: E402
import eval_data  # noqa: E402
import metrics  # noqa: E402
import models  # noqa: E402
from sources import BY_NAME, DEGRADATION_BY_NAME, DEGRADATIONS, SOURCES  # noqa: E402


def _tune_job(args):
    name, path, small = args
    groups = eval_data.load(path)
    noisy, clean = eval_data.scored_slices(groups, 0), eval_data.scored_slices(groups, 1)
    t0 = time.time()
    r = baselines.tune(name, noisy, clean, metrics.mean_score, small)
    # Background offset at the SSIM-best parameter.
    outs = [baselines.run_filter(name, x, r["ssim"][1]) for x in noisy]
    r["background"] = background.mean_offset(outs, clean)
    r["background_version"] = background.VERSION
    r["seconds"] = time.time() - t0
    return r


def tuned_baselines(cells, names, small, jobs, cache_path):
    """{(source, degradation, filter): result}, from the cache where the evaluation file is unchanged."""
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    todo, keys = [], []
    for (src, deg), path in cells.items():
        import h5py
        with h5py.File(path, "r") as f:
            key_of_file = f.attrs["key"]
        for name in names:
            key = f"{src}|{deg}|{name}|{'small' if small else 'full'}|{key_of_file}"
            if key not in cache:
                todo.append((name, str(path), small))
                keys.append(key)
    if todo:
        print(f"tuning {len(todo)} filter grids on {jobs} processes ...", file=sys.stderr)
        with ProcessPoolExecutor(jobs) as pool:
            for key, r in zip(keys, pool.map(_tune_job, todo)):
                cache[key] = r
                cache_path.write_text(json.dumps(cache, indent=1))
    out = {}
    for (src, deg), path in cells.items():
        import h5py
        with h5py.File(path, "r") as f:
            key_of_file = f.attrs["key"]
        for name in names:
            out[(src, deg, name)] = cache[f"{src}|{deg}|{name}|{'small' if small else 'full'}|{key_of_file}"]
    return out


def noise_seed(first, degradation):
    """The noise seed of a degradation's evaluation files (the adaptation re-makes them with it)."""
    return first + 10 * [x.name for x in DEGRADATIONS].index(degradation.name)


def refresh_backgrounds(tuned, cells, cache_path, small):
    """Background offsets of another background.VERSION, recomputed at the cached SSIM-best parameters."""
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    changed = False
    for (src, deg, name), r in tuned.items():
        if r.get("background_version") == background.VERSION:
            continue
        groups = eval_data.load(cells[(src, deg)])
        noisy, clean = eval_data.scored_slices(groups, 0), eval_data.scored_slices(groups, 1)
        r["background"] = background.mean_offset([baselines.run_filter(name, x, r["ssim"][1]) for x in noisy], clean)
        r["background_version"] = background.VERSION
        for key, v in cache.items():
            if key.startswith(f"{src}|{deg}|{name}|{'small' if small else 'full'}|"):
                v.update(background=r["background"], background_version=background.VERSION)
                changed = True
    if changed:
        cache_path.write_text(json.dumps(cache, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sira", default="build/sira")
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"))
    ap.add_argument("--work", default="real-validation")
    ap.add_argument("--sources", default=",".join(s.name for s in SOURCES))
    ap.add_argument("--degradations", default=",".join(d.name for d in DEGRADATIONS))
    ap.add_argument("--model", action="append", default=[], help="NAME=PATH[@int8]: one model for every source")
    ap.add_argument("--folds", action="append", default=[],
                    help="NAME=DIR[@int8]: DIR/without-SOURCE.sira restores SOURCE (leave-out fold models)")
    ap.add_argument("--seen", action="append", default=[],
                    help="NAME=FILE,FILE: the real files a model without info.training_sources was trained on")
    ap.add_argument("--allow-seen", action="store_true",
                    help="score a model on sources it was trained on too (marked 'seen'); never for claims")
    ap.add_argument("--adapt", action="append", default=[],
                    help="NAME=DIR: sira adapt each source's fold model DIR/without-SOURCE.sira on the cell's "
                         "noisy projections alone, and score the adapted model")
    ap.add_argument("--adapt-minutes", type=float, default=8.0, help="sira adapt --minutes per cell")
    ap.add_argument("--adapt-method", choices=("thinning", "noise2inverse"), default="thinning",
                    help="sira adapt --method")
    ap.add_argument("--adapt-apply", choices=("splits", "full"), default="full",
                    help="sira adapt --apply: what the adapted model restores (splits = Noise2Inverse's estimator, "
                         "with --adapt-method noise2inverse only)")
    ap.add_argument("--baselines", default=",".join(baselines.FILTERS))
    ap.add_argument("--small-grid", action="store_true", help="two or three values per filter (quick runs, tests)")
    ap.add_argument("--jobs", type=int, default=2, help="processes for the filter grids")
    ap.add_argument("--threads", type=int, default=2, help="sira threads")
    ap.add_argument("--seed", type=int, default=1000, help="noise seed of the first degradation")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    a = ap.parse_args()
    a.sira = str(Path(a.sira).resolve())
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)

    sources = [BY_NAME[s] for s in a.sources.split(",") if s]
    degs = [DEGRADATION_BY_NAME[d] for d in a.degradations.split(",") if d]
    names = [n for n in a.baselines.split(",") if n]
    seen = {}
    for spec in a.seen:
        n, files = spec.split("=", 1)
        seen[n] = files.split(",")

    cells = {}
    for s in sources:
        for i, d in enumerate(degs):
            seed = noise_seed(a.seed, d)
            cells[(s.name, d.name)] = eval_data.build(a.sira, a.data, work, s, d, seed)

    results = {}  # (source, degradation) -> method -> {...}
    for (src, deg), path in cells.items():
        groups = eval_data.load(path)
        noisy, clean = eval_data.scored_slices(groups, 0), eval_data.scored_slices(groups, 1)
        ss, ps = metrics.mean_score(noisy, clean)
        results[(src, deg)] = {"noisy input": {"ssim": ss, "psnr": ps, "background": background.mean_offset(noisy, clean),
                                               "slices": len(noisy), "size": list(clean[0].shape)}}

    tuned = tuned_baselines(cells, names, a.small_grid, a.jobs, work / "baselines.json")
    refresh_backgrounds(tuned, cells, work / "baselines.json", a.small_grid)
    for (src, deg, name), r in tuned.items():
        results[(src, deg)][name] = {"ssim": r["ssim"][0], "ssim_param": r["ssim"][1], "psnr": r["psnr"][0],
                                     "psnr_param": r["psnr"][1], "background": r["background"]}

    runs = []  # (method name, {source: Model})
    for spec in a.model:
        m = models.parse_model_spec(spec)
        if m.name in seen:
            m._seen = seen[m.name]
        runs.append((m.name, {s.name: m for s in sources}))
    for spec in a.folds:
        name, rest = spec.split("=", 1)
        precision = "fp32"
        if "@" in rest:
            rest, precision = rest.rsplit("@", 1)
        runs.append((name, {s.name: models.Model(name, models.fold_model(rest, s.name, precision), precision)
                            for s in sources}))
    for name, by_source in runs:
        for s in sources:
            m = by_source[s.name]
            was_seen = s.file in m.training_sources(a.sira)
            if was_seen and not a.allow_seen:
                raise SystemExit(f"{m.path} was trained on {s.file} ({s.name}): it cannot be scored on it "
                                 "(leave-out rule; --allow-seen marks such cells instead)")
            for d in degs:
                groups = eval_data.load(cells[(s.name, d.name)])
                t0 = time.time()
                restored = models.denoise_groups(a.sira, m.path, m.precision, groups, a.threads)
                outs = [r[i] for r, g in zip(restored, groups) for i in g[2]]
                clean = eval_data.scored_slices(groups, 1)
                ss, ps = metrics.mean_score(outs, clean)
                results[(s.name, d.name)][name] = {"ssim": ss, "psnr": ps, "seen": was_seen,
                                                   "background": background.mean_offset(outs, clean),
                                                   "seconds": time.time() - t0}
                print(f"{name} on {s.name}/{d.name}: {ss:.4f} / {ps:.2f} dB", file=sys.stderr)

    adapted = []
    for spec in a.adapt:
        name, fold_dir = spec.split("=", 1)
        adapted.append(name)
        for s in sources:
            start = models.fold_model(fold_dir, s.name, "fp32")
            if s.file in models.Model(name, start).training_sources(a.sira):
                raise SystemExit(f"{start} was trained on {s.file}: it cannot start the adaptation scored on it")
            for d in degs:
                groups = eval_data.load(cells[(s.name, d.name)])
                seed = noise_seed(a.seed, d)
                cell_dir = work / "adapt" / name / f"{s.name}-{d.name}"
                cell_dir.mkdir(parents=True, exist_ok=True)
                sinos = cell_dir / "noisy_sinograms.h5"
                center = adaptation.noisy_sinograms(a.sira, a.data, s, d, seed, groups, sinos)
                t0 = time.time()
                model = cell_dir / "adapted.sira"
                cmd, volume = adaptation.adapt(a.sira, start, sinos, center, model, a.adapt_minutes, a.threads,
                                               cell_dir / "adapt.log", a.adapt_apply, a.adapt_method)
                took = time.time() - t0
                restored = adaptation.split_groups(volume, groups)
                outs = [r[i] for r, g in zip(restored, groups) for i in g[2]]
                clean = eval_data.scored_slices(groups, 1)
                ss, ps = metrics.mean_score(outs, clean)
                results[(s.name, d.name)][name] = {"ssim": ss, "psnr": ps, "seen": False, "adapt_seconds": took,
                                                   "background": background.mean_offset(outs, clean),
                                                   "command": " ".join(["sira", *cmd[1:]])}
                print(f"{name} on {s.name}/{d.name}: {ss:.4f} / {ps:.2f} dB (adapted in {took:.0f} s)",
                      file=sys.stderr)

    methods = ["noisy input", *names, *[n for n, _ in runs], *adapted]
    report = summarise(results, sources, degs, methods)
    report["commands"] = {f"{s}/{d}": [str(v) for k, v in h5attrs(cells[(s, d)]).items() if k.startswith("command_")]
                          for (s, d) in cells}
    text = markdown(report, sources, degs, methods)
    print(text)
    if a.markdown:
        Path(a.markdown).write_text(text + "\n")
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1))


def h5attrs(path):
    import h5py
    with h5py.File(path, "r") as f:
        return dict(f.attrs)


def _mean(values):
    """Mean of the values that exist (a slice without air has no background figure)."""
    v = [x for x in values if x is not None]
    return sum(v) / len(v) if v else None


def _offset(v):
    return "no air" if v is None else f"{v:+.1f} %"


def summarise(results, sources, degs, methods):
    cells = {f"{s}/{d}": r for (s, d), r in results.items()}
    macro = {}  # degradation (and family, and 'all') -> method -> {ssim, psnr, background}
    groups = {d.name: [d.name] for d in degs}
    for fam in sorted({d.family for d in degs}):
        members = [d.name for d in degs if d.family == fam]
        if len(members) > 1 or members[0] != fam:
            groups[fam] = members
    groups["all"] = [d.name for d in degs]
    for gname, members in groups.items():
        macro[gname] = {}
        for m in methods:
            # Mean over sources of each source's mean over the group's degradations.
            per_source = [[results[(s.name, d)][m] for d in members] for s in sources]
            macro[gname][m] = {k: _mean([_mean([c[k] for c in cs]) for cs in per_source])
                               for k in ("ssim", "psnr", "background")}
    wins = {}
    for m in methods:
        if m == "noisy input" or m in baselines.FILTERS:
            continue
        wins[m] = {g: all(macro[g][m][k] > macro[g][b][k] for b in methods if b in baselines.FILTERS
                          for k in ("ssim", "psnr")) for g in macro}
    return {"cells": cells, "macro": macro, "beats_every_baseline": wins}


def markdown(report, sources, degs, methods):
    lines = []
    head = "| source | degradation | " + " | ".join(methods) + " |"
    lines += [head, "|---" * (len(methods) + 2) + "|"]
    for s in sources:
        for d in degs:
            c = report["cells"][f"{s.name}/{d.name}"]
            best_s = max(c[m]["ssim"] for m in methods)
            best_p = max(c[m]["psnr"] for m in methods)
            row = []
            for m in methods:
                v = c[m]
                t = f"{v['ssim']:.3f}" if v["ssim"] < best_s else f"**{v['ssim']:.3f}**"
                t += " / " + (f"{v['psnr']:.2f}" if v["psnr"] < best_p else f"**{v['psnr']:.2f}**")
                if v.get("seen"):
                    t += " (seen)"
                row.append(t)
            lines.append(f"| {s.name} | {d.name} | " + " | ".join(row) + " |")
    lines += ["", "Macro mean over sources (SSIM / PSNR dB; background offset in % of the clean range):", "",
              "| degradation | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for g, by in report["macro"].items():
        lines.append(f"| {g} | " + " | ".join(f"{by[m]['ssim']:.3f} / {by[m]['psnr']:.2f} ({_offset(by[m]['background'])})"
                                             for m in methods) + " |")
    for m, w in report["beats_every_baseline"].items():
        lines.append(f"\n{m} beats every tuned filter in mean SSIM and PSNR: " +
                     ", ".join(f"{g} {'yes' if ok else 'NO'}" for g, ok in w.items()))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
