// SPDX-License-Identifier: MIT
// gholami2025 Remark 3 for gradcode_reproduce: the load the server receives in the hierarchical
// scheme (N1 relays, no relay stragglers or adversaries) against a flat code over the same N1·N2
// workers tolerating N1·s2 stragglers — Remark 3's calculator (hierarchical/polynomial_tradeoff.hpp)
// checked against the message lengths of real polynomial_hgc codes.
// reproduce: gholami-remark3 the hierarchical server load N1 d/r1 is below the flat N1 N2 d/(r_T - N1 s2) in every row and both match the codes' message lengths
#include <gradcode/hierarchical/polynomial.hpp>
#include <gradcode/hierarchical/polynomial_placement.hpp>
#include <gradcode/hierarchical/polynomial_tradeoff.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "reproduce/registry.hpp"

namespace {

using gradcode::Index;
using reproduce::context;

/// One row: N1 clusters of N2 workers, each partition on r1 clusters and r2 workers of each,
/// s2 straggling workers per cluster.
struct setting {
  Index n1, n2, r1, r2, s2;
};

bool remark3(const context& c) {
  reproduce::claim claim;
  // d is a multiple of 2·m1·m2 for every row, so the unit-circle codes (pairs of reals per complex
  // unit) meet the loads exactly, without padding.
  constexpr Index d = 55440;
  constexpr Index partitions = 24;
  const std::vector<setting> rows = c.quick ? std::vector<setting>{{3, 3, 2, 2, 1}, {4, 6, 2, 5, 1}, {4, 6, 4, 5, 2}}
                                            : std::vector<setting>{{3, 3, 2, 2, 1}, {4, 6, 2, 5, 1}, {4, 6, 4, 5, 2},
                                                                   {4, 8, 2, 6, 2}, {6, 6, 3, 4, 1}, {8, 6, 4, 4, 1}};
  std::printf(
      "server load in d-vectors per round (d = %ld): hierarchical N1*C1 vs flat N1*N2*C (r_T = r1*r2 copies, "
      "the flat code tolerates N1*s2 stragglers)\n",
      static_cast<long>(d));
  std::printf("%4s %4s %4s %4s %4s | %18s %14s | %18s %14s | %8s\n", "N1", "N2", "r1", "r2", "s2", "hier. measured", "N1 d/r1",
              "flat measured", "N1N2 d/(rT-N1s2)", "ratio");
  examples::series hier{"hierarchical (N1 C1)", {}, {}}, flat{"non-hierarchical (N1 N2 C)", {}, {}};
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const setting& s = rows[k];
    reproduce::progress("gholami: N1 = %ld, N2 = %ld\n", static_cast<long>(s.n1), static_cast<long>(s.n2));
    const gradcode::polynomial_hgc<double> layered(
        {.dimension = d,
         .clusters = gradcode::place_partitions({.workers = std::vector<Index>(static_cast<std::size_t>(s.n1), s.n2),
                                                 .partitions = partitions,
                                                 .relay_replication = s.r1,
                                                 .worker_replication = {s.r2}}),
         .worker_stragglers = {s.s2}});
    // The flat code: one "cluster" holding all N1·N2 workers, so its relay is the server; each
    // partition on r_T = r1·r2 workers, N1·s2 stragglers tolerated.
    const Index rt = s.r1 * s.r2;
    const gradcode::polynomial_hgc<double> single(
        {.dimension = d,
         .clusters = gradcode::place_partitions(
             {.workers = {s.n1 * s.n2}, .partitions = partitions, .relay_replication = 1, .worker_replication = {rt}}),
         .worker_stragglers = {s.n1 * s.s2}});
    const double measured_hier = static_cast<double>(s.n1 * layered.relay_message_length()) / d;
    const double measured_flat = static_cast<double>(s.n1 * s.n2 * single.worker_message_length(0)) / d;
    const auto remark = gradcode::compare_flat_hierarchical({.dimension = d,
                                                             .clusters = s.n1,
                                                             .workers_per_cluster = s.n2,
                                                             .relay_replication = s.r1,
                                                             .worker_replication = s.r2,
                                                             .worker_stragglers = s.s2});
    const double formula_hier = remark.hierarchical_server_load / d, formula_flat = remark.flat_server_load / d;
    std::printf("%4ld %4ld %4ld %4ld %4ld | %18.3f %14.3f | %18.3f %14.3f | %7.1fx\n", static_cast<long>(s.n1),
                static_cast<long>(s.n2), static_cast<long>(s.r1), static_cast<long>(s.r2), static_cast<long>(s.s2), measured_hier,
                formula_hier, measured_flat, formula_flat, measured_flat / measured_hier);
    claim.check(measured_hier < measured_flat, "row %zu: hierarchical %.3f d < flat %.3f d", k + 1, measured_hier, measured_flat);
    claim.check(std::abs(measured_hier - formula_hier) < 1e-12 && std::abs(measured_flat - formula_flat) < 1e-12,
                "row %zu: the codes' message lengths give Remark 3's N1 d/r1 and N1 N2 d/(r_T - N1 s2) "
                "(compare_flat_hierarchical); the server waits for %.3f d (flat) and %.3f d (hierarchical)",
                k + 1, remark.flat_server_waited / d, remark.hierarchical_server_load / d);
    hier.x.push_back(static_cast<double>(k + 1)), hier.y.push_back(measured_hier);
    flat.x.push_back(static_cast<double>(k + 1)), flat.y.push_back(measured_flat);
  }
  std::printf("(rows: setting index on the plot's x axis; row 1 has the §IV example's N1, N2, r1)\n");
  reproduce::plot(c, "gholami-remark3", {hier, flat}, "gholami2025 Remark 3: server load, hierarchical vs flat",
                  "setting (row of the table)", "load received by the server (d-vectors per round)", false, true);
  return claim.held();
}

}  // namespace

namespace reproduce {

paper gholami_figures() {
  paper p;
  p.figures = {
      {"gholami-remark3",
       "gholami2025 Remark 3: server load (d-vectors per round), hierarchical N1 d/r1 vs flat N1 N2 d/(r_T - N1 s2), per setting",
       "no relay stragglers or adversaries, equal clusters, d = 55440, K = 24; compare_flat_hierarchical's loads checked "
       "against real polynomial_hgc codes (the flat one = one cluster of all N1 N2 workers); full: 6 settings; --quick: "
       "the first 3",
       remark3},
  };
  p.missing = {
      {"gholami2025 figures", "the paper has no numerical evaluation; Remark 3's comparison is the one table it implies"},
  };
  return p;
}

}  // namespace reproduce
