#include "sira/tomo/phantom.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "sira/error.hpp"

namespace sira::tomo {

PhantomKind parse_phantom_kind(const std::string& name) {
  if (name == "shepp-logan" || name == "shepp_logan" || name == "shepplogan") return PhantomKind::shepp_logan;
  if (name == "foam" || name == "rock") return PhantomKind::foam;
  if (name == "mixed") return PhantomKind::mixed;
  fail("unknown phantom type '", name, "' (expected shepp-logan, foam or mixed)");
}

const char* phantom_kind_name(PhantomKind kind) {
  switch (kind) {
    case PhantomKind::shepp_logan: return "shepp-logan";
    case PhantomKind::foam: return "foam";
    case PhantomKind::mixed: return "mixed";
  }
  return "?";
}

namespace {

enum class Paint { add, set };

// An ellipsoid with its own axes: a point p is inside when
// sum_i (axes[i] . (p - centre) / radii[i])^2 <= 1.
struct Ellipsoid {
  std::array<double, 3> centre;
  std::array<std::array<double, 3>, 3> axes;  // rows: unit local axes in world coordinates
  std::array<double, 3> radii;
  double value;
  Paint paint;
  std::array<double, 3> half_extent;  // axis-aligned bounding box half sizes

  Ellipsoid(std::array<double, 3> c, std::array<std::array<double, 3>, 3> a, std::array<double, 3> r,
            double v, Paint p)
      : centre(c), axes(a), radii(r), value(v), paint(p) {
    for (int j = 0; j < 3; ++j) {
      double e = 0;
      for (int i = 0; i < 3; ++i) e += (axes[i][j] * radii[i]) * (axes[i][j] * radii[i]);
      half_extent[j] = std::sqrt(e);
    }
  }
  bool contains(double x, double y, double z) const {
    const double d[3] = {x - centre[0], y - centre[1], z - centre[2]};
    double q = 0;
    for (int i = 0; i < 3; ++i) {
      const double u = (axes[i][0] * d[0] + axes[i][1] * d[1] + axes[i][2] * d[2]) / radii[i];
      q += u * u;
    }
    return q <= 1.0;
  }
};

constexpr double kDeg = std::numbers::pi / 180.0;

// Modified Shepp-Logan (Toft): density, semi-axes a b c, centre x y z, angle
// about z in degrees. 2-D uses a, b, x, y and the angle.
struct SheppLoganEntry {
  double density, a, b, c, x, y, z, phi_deg;
};
constexpr std::array<SheppLoganEntry, 10> kSheppLogan{{
    {1.0, .6900, .9200, .8100, 0.0, 0.0, 0.0, 0.0},
    {-.8, .6624, .8740, .7800, 0.0, -.0184, 0.0, 0.0},
    {-.2, .1100, .3100, .2200, .22, 0.0, 0.0, -18.0},
    {-.2, .1600, .4100, .2800, -.22, 0.0, 0.0, 18.0},
    {.1, .2100, .2500, .4100, 0.0, .35, -.15, 0.0},
    {.1, .0460, .0460, .0500, 0.0, .1, .25, 0.0},
    {.1, .0460, .0460, .0500, 0.0, -.1, .25, 0.0},
    {.1, .0460, .0230, .0500, -.08, -.605, 0.0, 0.0},
    {.1, .0230, .0230, .0200, 0.0, -.606, 0.0, 0.0},
    {.1, .0230, .0460, .0200, .06, -.605, 0.0, 0.0},
}};

std::vector<Ellipsoid> shepp_logan_shapes(bool three_d) {
  std::vector<Ellipsoid> shapes;
  for (const auto& e : kSheppLogan) {
    const double c = std::cos(e.phi_deg * kDeg), s = std::sin(e.phi_deg * kDeg);
    // Local axes in world coordinates: rotation by phi about z.
    const std::array<std::array<double, 3>, 3> axes{{{c, s, 0}, {-s, c, 0}, {0, 0, 1}}};
    const double depth = three_d ? e.c : 1e9;  // 2-D: an infinite cylinder
    shapes.push_back(Ellipsoid({e.x, e.y, three_d ? e.z : 0.0}, axes, {e.a, e.b, depth},
                               e.density, Paint::add));
  }
  return shapes;
}

double shape_sum(const std::vector<Ellipsoid>& shapes, double x, double y, double z) {
  double v = 0;
  for (const auto& s : shapes)
    if (s.contains(x, y, z)) v += s.value;
  return v;
}

// A random rotation (uniform on SO(3)) from a unit quaternion.
std::array<std::array<double, 3>, 3> random_axes(std::mt19937_64& rng) {
  std::normal_distribution<double> n;
  double q[4];
  double norm = 0;
  do {
    norm = 0;
    for (double& v : q) {
      v = n(rng);
      norm += v * v;
    }
  } while (norm < 1e-12);
  norm = std::sqrt(norm);
  const double w = q[0] / norm, x = q[1] / norm, y = q[2] / norm, z = q[3] / norm;
  return {{{1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)},
           {2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)},
           {2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)}}};
}

// The mixed phantom's recipe stream, apart from the foam's own use of the seed.
std::uint64_t derive_mixed_seed(std::uint64_t seed) { return seed * 0x9e3779b97f4a7c15ull + 0x6d69786564ull; }

// Foam/rock recipe, in the normalised frame. Counts are per unit volume so a
// 3-D volume and a 2-D section look alike; the 2-D section is the plane z = 0.
struct FoamRecipe {
  double cylinder_radius = 0.9;
  double grains_per_volume = 140, pores_per_volume = 260, cracks_per_volume = 14;
  double grain_r_min = 0.04, grain_r_max = 0.16;
  double pore_r_min = 0.012, pore_r_max = 0.06;
  double crack_long_min = 0.12, crack_long_max = 0.35, crack_thin_min = 0.004, crack_thin_max = 0.01;
  double crack_density = 0.04;
  double texture_amplitude = 0.12;  // relative density modulation
};

struct FoamModel {
  double matrix_density = 0.5;
  std::vector<Ellipsoid> shapes;  // painted in order
  std::uint64_t texture_seed = 0;
};

FoamModel foam_model(const FoamRecipe& r, std::uint64_t seed, double z_lo, double z_hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  FoamModel m;
  m.matrix_density = 0.4 + 0.2 * u(rng);
  m.texture_seed = rng();

  auto random_centre = [&](double margin) {
    const double rad = r.cylinder_radius * std::sqrt(u(rng)), ang = 2 * std::numbers::pi * u(rng);
    const double z = (z_lo - margin) + (z_hi - z_lo + 2 * margin) * u(rng);
    return std::array<double, 3>{rad * std::cos(ang), rad * std::sin(ang), z};
  };
  auto count_for = [&](double per_volume, double margin) {
    const double volume = std::numbers::pi * r.cylinder_radius * r.cylinder_radius * (z_hi - z_lo + 2 * margin);
    return static_cast<std::size_t>(std::llround(per_volume * volume));
  };
  auto between = [&](double lo, double hi) { return lo + (hi - lo) * u(rng); };

  const std::size_t grains = count_for(r.grains_per_volume, r.grain_r_max);
  for (std::size_t i = 0; i < grains; ++i) {
    const double base = between(r.grain_r_min, r.grain_r_max);
    const std::array<double, 3> radii{base, base * between(0.5, 1.0), base * between(0.4, 1.0)};
    // Two phases: dense minerals and a lighter one.
    const double density = u(rng) < 0.6 ? between(0.7, 1.0) : between(0.2, 0.38);
    m.shapes.emplace_back(random_centre(r.grain_r_max), random_axes(rng), radii, density, Paint::set);
  }
  const std::size_t pores = count_for(r.pores_per_volume, r.pore_r_max);
  for (std::size_t i = 0; i < pores; ++i) {
    const double base = between(r.pore_r_min, r.pore_r_max);
    const std::array<double, 3> radii{base, base * between(0.7, 1.0), base * between(0.7, 1.0)};
    m.shapes.emplace_back(random_centre(r.pore_r_max), random_axes(rng), radii, 0.0, Paint::set);
  }
  const std::size_t cracks = count_for(r.cracks_per_volume, r.crack_long_max);
  for (std::size_t i = 0; i < cracks; ++i) {
    const double length = between(r.crack_long_min, r.crack_long_max);
    // Penny-shaped: two long axes and one thin one; a section shows a thin line.
    const std::array<double, 3> radii{length, length * between(0.4, 0.8),
                                      between(r.crack_thin_min, r.crack_thin_max)};
    m.shapes.emplace_back(random_centre(r.crack_long_max), random_axes(rng), radii,
                          r.crack_density, Paint::set);
  }
  return m;
}

// A "mixed" sample: the foam recipe with every number drawn from the seed,
// plus what real scans show and the foam lacks. The parts are painted in
// order: container wall, gap, sample body, then the foam's grains, pores and
// cracks (scaled), then faint inclusions added on top.
struct MixedModel {
  FoamRecipe recipe;
  FoamModel foam;
  double clip_radius = 1.0;
};

MixedModel mixed_model(std::uint64_t seed, double z_lo, double z_hi) {
  std::mt19937_64 rng(derive_mixed_seed(seed));
  std::uniform_real_distribution<double> u(0.0, 1.0);
  auto between = [&](double lo, double hi) { return lo + (hi - lo) * u(rng); };
  auto log_between = [&](double lo, double hi) { return lo * std::pow(hi / lo, u(rng)); };
  MixedModel mm;
  FoamRecipe& r = mm.recipe;
  const bool container = u(rng) < 0.5;
  const double outer = between(0.45, 0.95);  // the sample may fill the field or sit in air
  const double wall = container ? between(0.015, 0.05) : 0.0, gap = container && u(rng) < 0.5 ? between(0.01, 0.04) : 0;
  r.cylinder_radius = std::max(0.2, outer - wall - gap);
  const double s = log_between(0.4, 2.0);  // feature scale
  const double crowd = 1.0 / (s * s * s);
  r.grain_r_min *= s, r.grain_r_max *= s, r.pore_r_min *= s, r.pore_r_max *= s;
  r.crack_long_min *= s, r.crack_long_max *= s;
  r.grains_per_volume *= crowd * between(0.2, 1.5);
  r.pores_per_volume *= crowd * between(0.0, 1.5);
  r.cracks_per_volume *= crowd * between(0.0, 2.0);
  r.texture_amplitude = between(0.0, 0.35);
  mm.foam = foam_model(r, rng(), z_lo, z_hi);
  if (u(rng) < 0.3) mm.foam.matrix_density = between(0.0, 0.08);  // loose grains in air or fluid
  std::vector<Ellipsoid> body;
  const std::array<std::array<double, 3>, 3> upright{{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
  auto cylinder = [&](double radius, double density) {
    body.emplace_back(std::array<double, 3>{0, 0, 0}, upright, std::array<double, 3>{radius, radius, 1e9}, density,
                      Paint::set);
  };
  // The base density outside the body is 0 (air): the body paints the matrix.
  if (container) {
    cylinder(outer, between(0.3, 1.0));
    if (gap > 0) cylinder(outer - wall, 0.0);
  }
  cylinder(r.cylinder_radius, mm.foam.matrix_density);
  mm.foam.shapes.insert(mm.foam.shapes.begin(), body.begin(), body.end());
  mm.foam.matrix_density = 0.0;
  // Faint inclusions: a few percent of contrast, the features a denoiser must keep.
  const double volume = std::numbers::pi * r.cylinder_radius * r.cylinder_radius * (z_hi - z_lo);
  const auto faint = std::size_t(std::llround(between(40, 200) * volume * std::min(crowd, 8.0)));
  for (std::size_t i = 0; i < faint; ++i) {
    const double rad = r.cylinder_radius * std::sqrt(u(rng)), ang = 2 * std::numbers::pi * u(rng);
    const double base = between(0.01, 0.08) * s;
    const std::array<double, 3> radii{base, base * between(0.5, 1.0), base * between(0.5, 1.0)};
    const double contrast = (u(rng) < 0.5 ? -1 : 1) * between(0.01, 0.06);
    mm.foam.shapes.emplace_back(std::array<double, 3>{rad * std::cos(ang), rad * std::sin(ang), between(z_lo, z_hi)},
                                random_axes(rng), radii, contrast, Paint::add);
  }
  mm.clip_radius = outer;
  return mm;
}

// Smooth value noise in [-1, 1] at lattice spacing `scale`, from a hash of the
// lattice point: deterministic and independent of evaluation order/threads.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

double lattice_value(std::uint64_t seed, std::int64_t i, std::int64_t j, std::int64_t k) {
  const std::uint64_t h = mix(seed ^ mix(std::uint64_t(i) ^ mix(std::uint64_t(j) ^ mix(std::uint64_t(k)))));
  return double(h >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

double value_noise(std::uint64_t seed, double x, double y, double z, double scale) {
  const double fx = x / scale, fy = y / scale, fz = z / scale;
  const double ix = std::floor(fx), iy = std::floor(fy), iz = std::floor(fz);
  auto fade = [](double t) { return t * t * t * (t * (t * 6 - 15) + 10); };
  const double tx = fade(fx - ix), ty = fade(fy - iy), tz = fade(fz - iz);
  const auto i0 = std::int64_t(ix), j0 = std::int64_t(iy), k0 = std::int64_t(iz);
  double acc = 0;
  for (int dk = 0; dk < 2; ++dk)
    for (int dj = 0; dj < 2; ++dj)
      for (int di = 0; di < 2; ++di) {
        const double w = (di ? tx : 1 - tx) * (dj ? ty : 1 - ty) * (dk ? tz : 1 - tz);
        acc += w * lattice_value(seed, i0 + di, j0 + dj, k0 + dk);
      }
  return acc;
}

// Texture at several scales, skipping those finer than ~3 pixels (band limit).
double texture(std::uint64_t seed, double x, double y, double z, double pitch) {
  static constexpr std::array<double, 4> kScales{0.2, 0.1, 0.05, 0.025};
  static constexpr std::array<double, 4> kWeights{0.45, 0.3, 0.15, 0.1};
  double v = 0;
  for (std::size_t o = 0; o < kScales.size(); ++o)
    if (kScales[o] >= 3 * pitch) v += kWeights[o] * value_noise(seed + o, x, y, z, kScales[o]);
  return v;
}

// Renders output rows [row_begin, row_end) of the slice at depth z_center:
// `sub` samples per axis per pixel (and `sub_z` sub-planes along z), averaged.
// Shapes are painted in order onto the `base` density; outside the clip radius
// the density is 0. A band is independent of the others (parallel work item).
void render_band(float* out, std::size_t n, std::size_t row_begin, std::size_t row_end, double z_center,
                 int sub, int sub_z, const std::vector<Ellipsoid>& shapes, double clip_radius, double base) {
  const double pitch = pixel_pitch(n);
  const std::size_t hn = n * std::size_t(sub);
  const std::size_t h0 = row_begin * sub, h1 = row_end * sub;  // high-resolution rows of the band
  const double hp = pitch / sub;
  std::vector<float> plane((h1 - h0) * hn);
  std::vector<double> acc((row_end - row_begin) * n, 0.0);
  auto hx = [&](std::size_t c) { return -1.0 + (double(c) + 0.5) * hp; };
  auto hy = [&](std::size_t r) { return 1.0 - (double(r) + 0.5) * hp; };
  auto col_of = [&](double x) { return (x + 1.0) / hp - 0.5; };
  auto row_of = [&](double y) { return (1.0 - y) / hp - 0.5; };
  const double clip2 = clip_radius * clip_radius;
  for (int sz = 0; sz < sub_z; ++sz) {
    const double z = z_center + pitch * ((sz + 0.5) / sub_z - 0.5);
    std::fill(plane.begin(), plane.end(), float(base));
    for (const auto& s : shapes) {
      if (std::abs(z - s.centre[2]) > s.half_extent[2]) continue;
      // Bounding box of the shape in high-resolution sample indices, cut to the band.
      const double c_lo = std::max(0.0, std::floor(col_of(s.centre[0] - s.half_extent[0])));
      const double c_hi = std::min(double(hn) - 1, std::ceil(col_of(s.centre[0] + s.half_extent[0])));
      const double r_lo = std::max(double(h0), std::floor(row_of(s.centre[1] + s.half_extent[1])));
      const double r_hi = std::min(double(h1) - 1, std::ceil(row_of(s.centre[1] - s.half_extent[1])));
      if (c_lo > c_hi || r_lo > r_hi) continue;
      for (auto r = std::size_t(r_lo); r <= std::size_t(r_hi); ++r)
        for (auto c = std::size_t(c_lo); c <= std::size_t(c_hi); ++c)
          if (s.contains(hx(c), hy(r), z)) {
            float& v = plane[(r - h0) * hn + c];
            v = s.paint == Paint::add ? v + float(s.value) : float(s.value);
          }
    }
    for (std::size_t r = row_begin; r < row_end; ++r)
      for (std::size_t c = 0; c < n; ++c) {
        double sum = 0;
        for (int i = 0; i < sub; ++i)
          for (int j = 0; j < sub; ++j) {
            const std::size_t rr = r * sub + i, cc = c * sub + j;
            const double x = hx(cc), y = hy(rr);
            if (x * x + y * y <= clip2) sum += plane[(rr - h0) * hn + cc];
          }
        acc[(r - row_begin) * n + c] += sum;
      }
  }
  const double norm = 1.0 / (double(sub) * sub * sub_z);
  for (std::size_t i = 0; i < acc.size(); ++i) out[row_begin * n + i] = float(acc[i] * norm);
}

}  // namespace

double shepp_logan_density_2d(double x, double y) {
  static const auto shapes = shepp_logan_shapes(false);
  return shape_sum(shapes, x, y, 0.0);
}

double shepp_logan_density_3d(double x, double y, double z) {
  static const auto shapes = shepp_logan_shapes(true);
  return shape_sum(shapes, x, y, z);
}

Stack make_phantom(const PhantomOptions& o, const std::function<void(std::size_t, std::size_t)>& progress) {
  if (o.size < 2) fail("phantom: size ", o.size, " is too small (at least 2 pixels)");
  if (o.slices < 1) fail("phantom: slices must be at least 1");
  if (!(o.attenuation > 0) || !std::isfinite(o.attenuation))
    fail("phantom: attenuation must be a positive number (got ", o.attenuation, ")");
  if (o.supersample < 0 || o.supersample > 16)
    fail("phantom: supersample ", o.supersample, " is out of range (0 = auto, 1..16)");
  check_dims(o.slices, o.size, o.size, "phantom");

  const bool three_d = o.slices > 1;
  const int sub = effective_supersample(o);
  const int sub_z = three_d ? sub : 1;
  const double pitch = pixel_pitch(o.size);
  const double scale = attenuation_per_density(o.size, o.attenuation);
  auto z_of = [&](std::size_t k) { return (double(k) + 0.5 - 0.5 * double(o.slices)) * pitch; };

  Stack out(o.slices, o.size, o.size);
  out.is_2d = !three_d;

  std::vector<Ellipsoid> shapes;
  double matrix = 0, clip = 1.0;
  std::uint64_t texture_seed = 0;
  const bool foam = o.kind == PhantomKind::foam || o.kind == PhantomKind::mixed;
  FoamRecipe recipe;
  if (o.kind == PhantomKind::foam) {
    const FoamModel m = foam_model(recipe, o.seed, z_of(0) - pitch, z_of(o.slices - 1) + pitch);
    shapes = m.shapes;
    matrix = m.matrix_density;
    clip = recipe.cylinder_radius;
    texture_seed = m.texture_seed;
  } else if (o.kind == PhantomKind::mixed) {
    const MixedModel m = mixed_model(o.seed, z_of(0) - pitch, z_of(o.slices - 1) + pitch);
    recipe = m.recipe;
    shapes = m.foam.shapes;
    matrix = m.foam.matrix_density;
    clip = m.clip_radius;
    texture_seed = m.foam.texture_seed;
  } else {
    shapes = shepp_logan_shapes(three_d);
  }
  // Work items: (slice, band of rows), so 2-D images and 3-D volumes both use
  // both cores with one parallel loop and no nested regions.
  const std::size_t band = 16, bands = (o.size + band - 1) / band;
  std::size_t done = 0;
#pragma omp parallel for schedule(dynamic)
  for (std::size_t item = 0; item < o.slices * bands; ++item) {
    const std::size_t k = item / bands, r0 = (item % bands) * band, r1 = std::min(o.size, r0 + band);
    float* slice = out.slice(k);
    render_band(slice, o.size, r0, r1, z_of(k), sub, sub_z, shapes, clip, matrix);
    for (std::size_t r = r0; r < r1; ++r)
      for (std::size_t c = 0; c < o.size; ++c) {
        float& v = slice[r * o.size + c];
        if (foam) {
          const double x = -1.0 + (c + 0.5) * pitch, y = 1.0 - (r + 0.5) * pitch;
          v = float(v * (1.0 + recipe.texture_amplitude * texture(texture_seed, x, y, z_of(k), pitch)));
          if (o.kind == PhantomKind::mixed) v = std::max(v, 0.0f);  // a faint pore in air: still air
        }
        v = float(v * scale);
      }
    if (progress) {
#pragma omp critical(sira_phantom_progress)
      progress(++done, o.slices * bands);
    }
  }
  return out;
}

}  // namespace sira::tomo
