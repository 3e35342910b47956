// SPDX-License-Identifier: MIT
// README "Numerical stability at scale": the refusal shares and amplifications its table states,
// at the sizes CI affords (n ≤ 100 with 200 patterns, n = 500 with 50; HGC at 400 and 1024
// workers). The same seeds as examples/condition_table.cpp (seed 1).
#include <catch2/catch.hpp>

#include <vector>

#include <gradcode/codes/cyclic_mds.hpp>
#include <gradcode/codes/cyclic_repetition.hpp>
#include <gradcode/codes/fractional_repetition.hpp>
#include <gradcode/core/condition_report.hpp>
#include <gradcode/hierarchical/hgc.hpp>

using gradcode::Index;

namespace {
gradcode::condition_report condition_cyclic(Index n, Index s, gradcode::construction how, Index samples = 200) {
  return gradcode::condition_of(
      gradcode::cyclic_repetition_code<double>({.nodes = n, .partitions = n, .tolerance = s, .method = how}),
      {.samples = samples});
}
gradcode::condition_report condition_fr(Index n, Index s) {
  return gradcode::condition_of(gradcode::fractional_repetition_code<double>({.nodes = n, .partitions = n, .tolerance = s}),
                                {.samples = 200});
}
double condition_hgc(Index n, Index s) {
  const gradcode::hgc_code<double> code(gradcode::hgc_params{.workers = std::vector<Index>(static_cast<std::size_t>(n), n),
                                                             .partitions = n * n,
                                                             .edge_tolerance = s,
                                                             .worker_tolerance = s});
  return gradcode::condition_of_layers(code).compounded_worst;
}
}  // namespace

TEST_CASE(
    "claims: condition: at n = 100, s = 10 the spectral cyclic repetition code refuses about a quarter of the patterns in float, "
    "Algorithm 2's random H nearly all, fractional repetition none",
    "[claims][condition]") {
  const auto spectral = condition_cyclic(100, 10, gradcode::construction::null_space);
  const auto tandon = condition_cyclic(100, 10, gradcode::construction::tandon_random);
  const auto fr = condition_fr(100, 10);
  WARN("float refused: spectral " << spectral.refused_float << ", tandon " << tandon.refused_float << ", FR " << fr.refused_float
                                  << " of 200; FR worst A " << fr.worst);
  CHECK(spectral.share_refused_float() >= 0.15);  // README: 27 %
  CHECK(spectral.share_refused_float() <= 0.40);
  CHECK(spectral.refused_double == 0);
  CHECK(tandon.share_refused_float() >= 0.9);  // README: 98 %
  CHECK(fr.refused_float == 0);
  CHECK(fr.refused_double == 0);
  CHECK(fr.worst < 2);  // README: 1.18
}

TEST_CASE(
    "claims: condition: at n = 40, s = 4 the spectral code refuses at most a few per cent in float and fractional repetition "
    "decodes with A = 1",
    "[claims][condition]") {
  const auto spectral = condition_cyclic(40, 4, gradcode::construction::null_space);
  CHECK(spectral.share_refused_float() <= 0.03);  // README: 1 %
  CHECK(spectral.refused_double == 0);
  const auto fr = condition_fr(40, 4);
  CHECK(fr.worst == Approx(1).epsilon(1e-12));
}

TEST_CASE(
    "claims: condition: at n = 500, s = 25 the real cyclic MDS code stays below A = 10 while the spectral code is refused in "
    "double too",
    "[claims][condition]") {
  const auto mds = gradcode::condition_of(gradcode::cyclic_mds_code<double>({.nodes = 500, .partitions = 500, .tolerance = 25}),
                                          {.samples = 50});
  CHECK(mds.worst < 10);  // README: 6.9
  CHECK(mds.refused_float == 0);
  const auto spectral = condition_cyclic(500, 25, gradcode::construction::null_space, 50);
  CHECK(spectral.refused_double > 0);            // README: 22 %
  CHECK(spectral.share_refused_float() >= 0.2);  // README: 38 %
}

TEST_CASE(
    "claims: condition: HGC at 1024 workers (n = m = 32, s = 3) compounds A = 1, at 400 workers (n = m = 20, s = 2) more than "
    "float accepts",
    "[claims][condition]") {
  CHECK(condition_hgc(32, 3) == Approx(1).epsilon(1e-9));
  const double a20 = condition_hgc(20, 2);
  CHECK(a20 > gradcode::detail::default_max_amplification<float>());  // README: 436
  CHECK(a20 < gradcode::detail::default_max_amplification<double>());
}
