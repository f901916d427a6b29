// The TomoGAN graph against the published network, counted by hand.
#include <gtest/gtest.h>

#include "sira/error.hpp"
#include "sira/graph.hpp"

using sira::build_graph;
using sira::OpKind;
using sira::TomoganConfig;

namespace {

// The published TomoGAN written out layer by layer:
// {level, out, in, k*k} for every conv, from the paper's description.
struct HandLayer {
  int level, out, in, taps;
};
const HandLayer kPublished3Slices[] = {
    {0, 8, 3, 1},     {0, 32, 8, 9},   {0, 32, 32, 9},  {1, 64, 32, 9},  {1, 64, 64, 9},
    {2, 128, 64, 9},  {2, 128, 128, 9}, {3, 128, 128, 9}, {2, 64, 256, 9}, {2, 64, 64, 9},
    {1, 32, 128, 9},  {1, 32, 32, 9},  {0, 32, 64, 9},  {0, 32, 32, 9},  {0, 16, 32, 1},
    {0, 1, 16, 1}};

}  // namespace

TEST(Graph, PublishedTomoganHas694913Parameters) {
  const auto g = build_graph(TomoganConfig{});
  EXPECT_EQ(g.parameters(), 694913);
  std::int64_t hand = 0;
  for (const auto& l : kPublished3Slices) hand += std::int64_t(l.out) * l.in * l.taps + l.out;
  EXPECT_EQ(hand, 694913);
}

TEST(Graph, MacsMatchHandCountAt1024AndNonSquare) {
  const auto g = build_graph(TomoganConfig{});
  for (auto [h, w] : {std::pair<std::size_t, std::size_t>{1024, 1024}, {64, 200}}) {
    double hand = 0;
    for (const auto& l : kPublished3Slices)
      hand += double(h >> l.level) * double(w >> l.level) * l.out * l.in * l.taps;
    EXPECT_DOUBLE_EQ(g.macs(h, w), hand) << h << "x" << w;
  }
  EXPECT_NEAR(g.macs(1024, 1024) / 1e9, 97.2156, 1e-4);
  // Sizes that are not a multiple of 8 are counted at the padded size.
  EXPECT_DOUBLE_EQ(g.macs(1017, 1020), g.macs(1024, 1024));
}

TEST(Graph, TransposedUpsamplingAddsItsWeightsAndMacs) {
  TomoganConfig cfg;
  cfg.upsample = sira::Upsample::transposed;
  const auto g = build_graph(cfg);
  // ConvTranspose2d(C, C, 2, stride 2) for C = 128, 64, 32 at output levels 2, 1, 0.
  const std::int64_t extra = (128 * 128 * 4 + 128) + (64 * 64 * 4 + 64) + (32 * 32 * 4 + 32);
  EXPECT_EQ(g.parameters(), 694913 + extra);
  // Each output pixel gets one tap per input channel and output channel.
  const double extra_macs = 256.0 * 256 * 128 * 128 + 512.0 * 512 * 64 * 64 + 1024.0 * 1024 * 32 * 32;
  EXPECT_DOUBLE_EQ(g.macs(1024, 1024), build_graph(TomoganConfig{}).macs(1024, 1024) + extra_macs);
}

TEST(Graph, StructureFollowsTheUNet) {
  TomoganConfig cfg;
  cfg.slices = 1;
  const auto g = build_graph(cfg);
  EXPECT_EQ(g.in_channels, 1);
  EXPECT_EQ(g.levels, 3);
  EXPECT_EQ(g.multiple(), 8);
  ASSERT_EQ(g.output, static_cast<int>(g.nodes.size()) - 1);
  const auto& out = g.nodes[g.output];
  EXPECT_EQ(out.name, "head.conv2");
  EXPECT_EQ(out.channels, 1);
  EXPECT_FALSE(out.relu);
  EXPECT_EQ(out.level, 0);
  int pools = 0, ups = 0, convs = 0;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    for (int in : n.inputs) EXPECT_LT(in, static_cast<int>(i)) << n.name << " reads a later node";
    if (n.op == OpKind::maxpool) ++pools;
    if (n.op == OpKind::upsample) ++ups;
    if (n.op == OpKind::conv) {
      ++convs;
      EXPECT_EQ(n.relu, n.name != "head.conv2") << n.name;
    }
    if (n.op == OpKind::concat) {
      // [skip, upsampled]: the skip is an encoder conv2 at the same level.
      ASSERT_EQ(n.inputs.size(), 2u);
      const auto& skip = g.nodes[n.inputs[0]];
      EXPECT_EQ(skip.name, sira::cat("enc.", n.level, ".conv2"));
      EXPECT_EQ(g.nodes[n.inputs[1]].op, OpKind::upsample);
      EXPECT_EQ(n.channels, skip.channels + g.nodes[n.inputs[1]].channels);
    }
  }
  EXPECT_EQ(pools, 3);
  EXPECT_EQ(ups, 3);
  EXPECT_EQ(convs, 16);
  // dec.0 is the coarsest decoder level (right after the bottleneck).
  for (const auto& n : g.nodes) {
    if (n.name == "dec.0.conv1") {
      EXPECT_EQ(n.level, 2);
    }
  }
}

TEST(Graph, ReceptiveRadiusMatchesHandDerivation) {
  // Bilinear, published widths: stem 0; enc.0 +1+1; enc.1 +2+2; enc.2 +4+4;
  // bottleneck +8 = 22; up from level 3 +8 = 30; dec.0 +4+4 = 38; up +4 = 42;
  // dec.1 +2+2 = 46; up +2 = 48; dec.2 +1+1 = 50; 1x1 head +0.
  EXPECT_EQ(build_graph(TomoganConfig{}).receptive_radius(), 50);
  // Nearest / transposed upsampling from level l+1 adds 2^l instead: 50 - 4 - 2 - 1.
  TomoganConfig cfg;
  cfg.upsample = sira::Upsample::nearest;
  EXPECT_EQ(build_graph(cfg).receptive_radius(), 43);
  cfg.upsample = sira::Upsample::transposed;
  EXPECT_EQ(build_graph(cfg).receptive_radius(), 43);
  // One level: stem 0, enc.0 +2, bottleneck at level 1 +2, bilinear +2, dec.0 +2.
  TomoganConfig one;
  sira::parse_widths("8,16,16,16,4", one);
  EXPECT_EQ(build_graph(one).receptive_radius(), 8);
}

TEST(Graph, RejectsImpossibleConfigurations) {
  TomoganConfig cfg;
  cfg.slices = 2;
  EXPECT_THROW(build_graph(cfg), sira::Error);
  cfg = {};
  cfg.decoder.pop_back();
  EXPECT_THROW(build_graph(cfg), sira::Error);
  cfg = {};
  cfg.encoder[1] = 0;
  EXPECT_THROW(build_graph(cfg), sira::Error);
  cfg = {};
  cfg.head = 1 << 20;
  EXPECT_THROW(build_graph(cfg), sira::Error);
  cfg = {};
  cfg.encoder.assign(9, 8);
  cfg.decoder.assign(9, 8);
  EXPECT_THROW(build_graph(cfg), sira::Error);
}

TEST(Graph, WidthsListRoundTripsAndRejectsGarbage) {
  TomoganConfig cfg;
  EXPECT_EQ(sira::format_widths(cfg), "8,32,64,128,128,64,32,32,16");
  sira::parse_widths("4,8,16,32,16,8,2", cfg);
  EXPECT_EQ(cfg.levels(), 2);
  EXPECT_EQ(cfg.stem, 4);
  EXPECT_EQ(cfg.encoder, (std::vector<int>{8, 16}));
  EXPECT_EQ(cfg.bottleneck, 32);
  EXPECT_EQ(cfg.decoder, (std::vector<int>{16, 8}));
  EXPECT_EQ(cfg.head, 2);
  for (const char* bad : {"", "8,32,64,128", "8,32,,64,16", "8,a,64,128,16", "8,32,64,128,16,",
                          "8,-1,64,128,16", "8,32,64,128,99999999999"}) {
    TomoganConfig before = cfg;
    EXPECT_THROW(sira::parse_widths(bad, cfg), sira::Error) << bad;
    EXPECT_EQ(sira::format_widths(cfg), sira::format_widths(before)) << "changed by a failed parse";
  }
}
