// SPDX-License-Identifier: MIT
// Load calculators of gholami2025 (include/gradcode/hierarchical/polynomial_tradeoff.hpp):
// Theorem 1's loads (eq. 4) against the §IV example and constructed polynomial_hgc codes,
// Remark 1 (tang2024's HGC = the case C1 = C2 = d) against tradeoff.hpp on a parameter grid, and
// Remark 3 (flat vs hierarchical server load) with its ordering over a whole grid.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <gradcode/core/errors.hpp>
#include <gradcode/hierarchical/hgc.hpp>
#include <gradcode/hierarchical/polynomial.hpp>
#include <gradcode/hierarchical/polynomial_placement.hpp>
#include <gradcode/hierarchical/polynomial_tradeoff.hpp>
#include <gradcode/hierarchical/tradeoff.hpp>

#include "codes/code_properties.hpp"

namespace polynomial_tradeoff_test {

using gradcode::assignment;
using gradcode::Index;
using gradcode::invalid_parameters;
using gradcode::polynomial_load_params;
using gradcode::polynomial_loads;
using gradcode::test::what_contains;

constexpr const char* section4 = "gholami2025 §IV (N1 = N2 = 3, K = 9, r1 = r2 = 2, s2 = 1)";

/// §IV's Γ_(i,j) as printed (1-based partitions).
std::vector<assignment> section4_clusters() {
  auto cluster = [](std::vector<std::vector<Index>> h) {
    for (auto& v : h)
      for (auto& x : v) --x;
    return assignment(9, std::move(h));
  };
  return {cluster({{1, 3, 7, 9}, {1, 3, 4, 6}, {4, 6, 7, 9}}), cluster({{1, 2, 7, 8}, {1, 2, 4, 5}, {4, 5, 7, 8}}),
          cluster({{2, 3, 8, 9}, {2, 3, 5, 6}, {5, 6, 8, 9}})};
}

/// Field-by-field equality of two load reports (exact: both sides compute the same doubles).
void check_same_loads(const polynomial_loads& a, const polynomial_loads& b) {
  CHECK(a.relay_parts == b.relay_parts);
  CHECK(a.worker_parts == b.worker_parts);
  CHECK(a.relay_message == b.relay_message);
  CHECK(a.worker_message == b.worker_message);
  CHECK(a.server_received == b.server_received);
  CHECK(a.server_sent == b.server_sent);
  CHECK(a.relay_received == b.relay_received);
  CHECK(a.worker_computation == b.worker_computation);
}

const std::vector<std::vector<Index>>& edge_systems() {
  static const std::vector<std::vector<Index>> s = {{3, 3, 3},       {10, 10, 10, 10}, {3, 4, 5},   {5, 3, 4, 2},
                                                    {2, 7, 3, 9, 4}, {6, 6},           {1, 1, 1, 1}};
  return s;
}

// The test cases stay in this namespace too: the area compiles as one unity translation unit, and
// other files' helpers (section4, …) live in the global anonymous namespace.

TEST_CASE(
    "polynomial tradeoff: gholami2025 §IV gives m1 = 2, m2 = 1, C1 = C2 = d/2 (Theorem 1), r1 = r2 = 2 from Γ, and 4 "
    "partitions per worker",
    "[polynomial_tradeoff][kat]") {
  INFO(section4);
  for (Index d : {2, 10, 1000}) {
    const auto loads = gradcode::polynomial_hgc_loads({.dimension = d,
                                                       .workers = {3, 3, 3},
                                                       .relay_replication = 2,
                                                       .worker_replication = {2},
                                                       .worker_stragglers = {1},
                                                       .partitions = 9});
    const double half = static_cast<double>(d) / 2;
    CHECK(loads.relay_parts == 2);                                         // "m1 = r1 − 2a1 − s1 = 2"
    CHECK(loads.worker_parts == std::vector<Index>{1, 1, 1});              // "m2^(i) = r2,i − 2a2^(i) − s2^(i) = 1"
    CHECK(loads.relay_message == half);                                    // "sends the result, which is a vector of size d/2"
    CHECK(loads.worker_message == std::vector<double>{half, half, half});  // "only sends a vector of size d/2"
    CHECK(loads.server_received == 3 * half);                              // s1 = 0: all three relays
    CHECK(loads.relay_received == std::vector<double>{2 * half, 2 * half, 2 * half});  // any 2 of 3 workers
    CHECK(loads.worker_computation == std::vector<double>{4, 4, 4});                   // |Γ_(i,j)| = 4 as printed
  }
  const auto clusters = section4_clusters();
  const auto rep = gradcode::replication_of(clusters);
  CHECK(rep.relay_replication == 2);  // "the data assignment is performed such that r1 = 2"
  CHECK(rep.worker_replication == std::vector<Index>{2, 2, 2});
  CHECK(rep.flat_replication == 4);  // each D_k on 2 clusters × 2 workers
  for (const auto& c : clusters)
    for (Index j = 0; j < c.nodes(); ++j) CHECK(c.partitions_of(j).size() == 4);
  // The constructed §IV code (d = 2, the paper's real points): message lengths are the calculator's.
  const gradcode::polynomial_hgc<double> code(
      {.dimension = 2, .clusters = clusters, .worker_stragglers = {1}, .points = gradcode::point_family::paper});
  CHECK(static_cast<double>(code.relay_message_length()) == 1.0);
  for (Index n = 0; n < 3; ++n) CHECK(static_cast<double>(code.worker_message_length(n)) == 1.0);
}

TEST_CASE(
    "polynomial tradeoff: Remark 1 — tang2024 Example 1 (n = m = 3, K = 9, s_e = s_w = 1) is r1 = r2 = 2, s1 = s2 = 1 with "
    "C1 = C2 = d, the master waiting for 2d and D = 4",
    "[polynomial_tradeoff][kat][remark1]") {
  const std::vector<Index> ex1 = {3, 3, 3};
  const auto p = gradcode::hgc_as_polynomial(ex1, 9, 1, 1, 100);
  CHECK(p.relay_replication == 2);
  CHECK(p.worker_replication == std::vector<Index>{2});
  CHECK(p.relay_stragglers == 1);
  CHECK(p.worker_stragglers == std::vector<Index>{1});
  CHECK(p.relay_adversaries == 0);
  CHECK(p.worker_adversaries.empty());
  const auto loads = gradcode::polynomial_hgc_loads(p);
  CHECK(loads.relay_parts == 1);
  CHECK(loads.worker_parts == std::vector<Index>{1, 1, 1});
  CHECK(loads.relay_message == 100);  // "C1 = C2^(i) = d"
  CHECK(loads.worker_message == std::vector<double>{100, 100, 100});
  CHECK(loads.server_received == 200);  // n − s_e = 2 edge vectors (tang2024 §V-B)
  CHECK(loads.relay_received == std::vector<double>{200, 200, 200});
  CHECK(loads.worker_computation == std::vector<double>{4, 4, 4});  // tang2024 Example 1: "4 sub-datasets"
  check_same_loads(loads, gradcode::tang2024_hgc_loads(ex1, 9, 1, 1, 100));
}

TEST_CASE(
    "polynomial tradeoff: Remark 1 on a grid — at r1 = s_e + 1, r2 = s_w + 1 every load of the polynomial code equals "
    "tang2024's HGC (tradeoff.hpp), with C1 = C2 = d",
    "[polynomial_tradeoff][remark1][exhaustive]") {
  Index checked = 0;
  for (const auto& m : edge_systems()) {
    const auto n = static_cast<Index>(m.size());
    const Index m_min = *std::min_element(m.begin(), m.end()), total = std::accumulate(m.begin(), m.end(), Index{0});
    for (Index se = 0; se < n; ++se)
      for (Index sw = 0; sw < m_min; ++sw)
        for (Index K : {total, 2 * total + 1, Index{7}})
          for (Index d : {1, 6, 1000}) {
            INFO("m = " << gradcode::test::to_string(m) << ", K = " << K << ", s_e = " << se << ", s_w = " << sw
                        << ", d = " << d);
            const auto poly = gradcode::polynomial_hgc_loads(gradcode::hgc_as_polynomial(m, K, se, sw, d));
            check_same_loads(poly, gradcode::tang2024_hgc_loads(m, K, se, sw, d));
            CHECK(poly.relay_message == static_cast<double>(d));
            for (double c2 : poly.worker_message) CHECK(c2 == static_cast<double>(d));
            // And against tradeoff.hpp directly.
            CHECK(poly.server_received ==
                  static_cast<double>(gradcode::master_communication_load(gradcode::scheme::hgc, m, se, sw) * d));
            for (double D : poly.worker_computation) CHECK(D == Approx(gradcode::hgc_load_bound(m, K, se, sw)).epsilon(1e-15));
            ++checked;
          }
  }
  std::printf("[gradcode polynomial tradeoff] Remark 1 equal on %lld parameter sets\n", static_cast<long long>(checked));
  CHECK(checked > 300);
}

TEST_CASE(
    "polynomial tradeoff: Remark 1 on constructed codes — a polynomial_hgc placed with r1 = s_e + 1, r2 = s_w + 1 sends "
    "d-long messages and gives every worker the partitions tang2024's hgc_code gives it",
    "[polynomial_tradeoff][remark1]") {
  const std::vector<std::vector<Index>> systems = {{3, 3, 3}, {2, 3, 4}, {4, 4}, {3, 2, 2, 3}};
  Index same_worker_loads = 0, codes = 0, outside_assumption = 0;
  for (const auto& m : systems) {
    const auto n = static_cast<Index>(m.size());
    const Index m_min = *std::min_element(m.begin(), m.end()), total = std::accumulate(m.begin(), m.end(), Index{0});
    for (Index se = 0; se < n; ++se)
      for (Index sw = 0; sw < m_min; ++sw) {
        const Index K = total, d = 12;
        INFO("m = " << gradcode::test::to_string(m) << ", K = " << K << ", s_e = " << se << ", s_w = " << sw);
        const auto p = gradcode::hgc_as_polynomial(m, K, se, sw, d);
        const auto clusters = gradcode::place_partitions({.workers = m,
                                                          .partitions = K,
                                                          .relay_replication = p.relay_replication,
                                                          .worker_replication = p.worker_replication});
        const gradcode::polynomial_hgc<double> code(
            {.dimension = d, .clusters = clusters, .relay_stragglers = se, .worker_stragglers = {sw}});
        const auto loads = gradcode::polynomial_hgc_loads(p);
        CHECK(code.relay_replication() == p.relay_replication);
        CHECK(code.relay_parts() == 1);
        CHECK(static_cast<double>(code.relay_message_length()) == loads.relay_message);
        CHECK(code.relay_load_bound() == loads.relay_message);
        // hgc_code refuses placements outside tang2024's assumption after Theorem 1 (an edge would
        // need more than K partitions or the smallest edges too few); compare the loads where it builds.
        std::optional<gradcode::hgc_code<double>> hgc;
        try {
          hgc.emplace(gradcode::hgc_params{.workers = m, .partitions = K, .edge_tolerance = se, .worker_tolerance = sw});
        } catch (const invalid_parameters&) {
          ++outside_assumption;
        }
        double copies = 0;
        for (Index i = 0; i < n; ++i) {
          CHECK(code.worker_parts(i) == 1);
          CHECK(static_cast<double>(code.worker_message_length(i)) == loads.worker_message[static_cast<std::size_t>(i)]);
          for (Index j = 0; j < m[static_cast<std::size_t>(i)]; ++j) {
            const auto held = static_cast<Index>(code.worker_partitions({i, j}).size());
            copies += static_cast<double>(held);
            if (!hgc) continue;
            same_worker_loads += held == hgc->load({i, j}) ? 1 : 0;
            CHECK(held == hgc->load({i, j}));
          }
        }
        // The mean computation load is K r1 r2/ΣN2 = tang2024's Theorem 1 D exactly (integer loads,
        // real mean).
        CHECK(copies / static_cast<double>(total) == Approx(loads.worker_computation[0]).epsilon(1e-12));
        CHECK(loads.worker_computation[0] == Approx(gradcode::hgc_load_bound(m, K, se, sw)).epsilon(1e-15));
        if (hgc) CHECK(loads.worker_computation[0] == Approx(hgc->load_bound()).epsilon(1e-15));
        ++codes;
      }
  }
  std::printf(
      "[gradcode polynomial tradeoff] Remark 1: %lld codes constructed, %lld worker loads equal to hgc_code's (%lld settings "
      "outside tang2024's placement assumption)\n",
      static_cast<long long>(codes), static_cast<long long>(same_worker_loads), static_cast<long long>(outside_assumption));
  CHECK(same_worker_loads > 100);
}

TEST_CASE(
    "polynomial tradeoff: Theorem 1's C1* = d/m1, C2* = d/(m1 m2) are the message lengths of constructed codes with "
    "stragglers and adversaries at both layers, r1 and r2 as replication_of derives them",
    "[polynomial_tradeoff]") {
  struct setting {
    std::vector<Index> workers;
    Index K, r1;
    std::vector<Index> r2;
    Index s1, a1;
    std::vector<Index> s2, a2;
  };
  const std::vector<setting> settings = {{{3, 3, 3}, 9, 2, {2}, 0, 0, {1}, {0}},
                                         {{4, 4, 4, 4}, 8, 3, {3}, 1, 0, {1}, {0}},
                                         {{5, 4, 6}, 15, 3, {5, 4, 3}, 0, 1, {1, 0, 1}, {1, 1, 0}},
                                         {{6, 6}, 6, 2, {4}, 0, 0, {0}, {1}},
                                         {{3, 5, 4, 4, 3}, 20, 4, {3}, 1, 1, {1}, {0}},
                                         {{2, 2, 2, 2, 2, 2}, 12, 6, {2}, 2, 1, {0}, {0}}};
  for (const auto& s : settings)
    for (auto points : {gradcode::point_family::unit_circle, gradcode::point_family::paper}) {
      const auto clusters = gradcode::place_partitions(
          {.workers = s.workers, .partitions = s.K, .relay_replication = s.r1, .worker_replication = s.r2});
      const auto rep = gradcode::replication_of(clusters);
      const auto loads_of = [&](Index d) {
        return gradcode::polynomial_hgc_loads({.dimension = d,
                                               .workers = s.workers,
                                               .relay_replication = rep.relay_replication,
                                               .worker_replication = rep.worker_replication,
                                               .relay_stragglers = s.s1,
                                               .relay_adversaries = s.a1,
                                               .worker_stragglers = s.s2,
                                               .worker_adversaries = s.a2});
      };
      INFO("N2 = " << gradcode::test::to_string(s.workers) << ", r1 = " << s.r1 << ", s1 = " << s.s1 << ", a1 = " << s.a1
                   << (points == gradcode::point_family::paper ? ", paper points" : ", unit circle"));
      // d a multiple of 2·m1·Π m2 (complex points pack two reals per unit): lengths are exactly the bound.
      const auto probe = loads_of(1);
      Index dmul = 2 * probe.relay_parts;
      for (Index m2 : probe.worker_parts) dmul = std::lcm(dmul, 2 * probe.relay_parts * m2);
      for (Index d : {dmul, 3 * dmul, dmul + 1, Index{7}}) {
        INFO("d = " << d);
        const gradcode::polynomial_hgc<double> code({.dimension = d,
                                                     .clusters = clusters,
                                                     .relay_stragglers = s.s1,
                                                     .relay_adversaries = s.a1,
                                                     .worker_stragglers = s.s2,
                                                     .worker_adversaries = s.a2,
                                                     .points = points});
        const auto loads = loads_of(d);
        CHECK(code.relay_replication() == rep.relay_replication);
        CHECK(code.relay_parts() == loads.relay_parts);
        CHECK(code.relay_load_bound() == loads.relay_message);
        const auto c1 = static_cast<double>(code.relay_message_length());
        if (d % dmul == 0) CHECK(c1 == loads.relay_message);
        CHECK(c1 >= loads.relay_message);  // zero padding only adds
        CHECK(c1 < loads.relay_message + 2);
        for (Index i = 0; i < code.relays(); ++i) {
          const auto si = static_cast<std::size_t>(i);
          CHECK(code.worker_replication(i) == rep.worker_replication[si]);
          CHECK(code.worker_parts(i) == loads.worker_parts[si]);
          CHECK(code.worker_load_bound(i) == Approx(loads.worker_message[si]).epsilon(1e-15));
          const auto c2 = static_cast<double>(code.worker_message_length(i));
          if (d % dmul == 0) CHECK(c2 == loads.worker_message[si]);
          CHECK(c2 >= loads.worker_message[si]);
          CHECK(c2 < loads.worker_message[si] + 2 + 2.0 / static_cast<double>(loads.worker_parts[si]));
        }
      }
    }
}

TEST_CASE(
    "polynomial tradeoff: Remark 3 on the §IV setting — the flat code (N1 s2 = 3 stragglers, r_T = 4) loads the server "
    "with 9d, the hierarchical one with N1 d/r1 = 1.5d",
    "[polynomial_tradeoff][kat][remark3]") {
  INFO(section4);
  const Index d = 100;
  const auto r = gradcode::compare_flat_hierarchical({.dimension = d,
                                                      .clusters = 3,
                                                      .workers_per_cluster = 3,
                                                      .relay_replication = 2,
                                                      .worker_replication = 2,
                                                      .worker_stragglers = 1});
  CHECK(r.flat_workers == 9);
  CHECK(r.flat_stragglers == 3);   // "a total of N1 s2 straggling workers"
  CHECK(r.flat_replication == 4);  // r1·r2, = replication_of(§IV Γ).flat_replication
  CHECK(r.flat_feasible);
  CHECK(r.flat_worker_message == 100);         // d/(r_T − N1 s2) = d/1
  CHECK(r.flat_server_load == 900);            // N1 N2 d/(r_T − N1 s2)
  CHECK(r.flat_server_waited == 600);          // the 6 results it waits for
  CHECK(r.hierarchical_relay_message == 50);   // C1 = d/r1
  CHECK(r.hierarchical_worker_message == 50);  // C2 = d/(r1 (r2 − s2))
  CHECK(r.hierarchical_server_load == 150);    // N1 d/r1
  CHECK(r.hierarchical_relay_load == 100);     // 2 workers of size d/2
  CHECK(r.server_load_ratio == 6);
  CHECK(gradcode::replication_of(section4_clusters()).flat_replication == r.flat_replication);
  // r_T = r1·N2 = 6 (every worker of both clusters holds the partition): 9d/3 = 3d, still above 1.5d.
  const auto full = gradcode::compare_flat_hierarchical({.dimension = d,
                                                         .clusters = 3,
                                                         .workers_per_cluster = 3,
                                                         .relay_replication = 2,
                                                         .worker_replication = 2,
                                                         .worker_stragglers = 1,
                                                         .flat_replication = 6});
  CHECK(full.flat_server_load == 300);
  // Two stragglers per cluster cannot be matched by any flat code on r_T = 4 < 6 + 1.
  const auto heavy = gradcode::compare_flat_hierarchical({.dimension = d,
                                                          .clusters = 3,
                                                          .workers_per_cluster = 3,
                                                          .relay_replication = 2,
                                                          .worker_replication = 3,
                                                          .worker_stragglers = 2});
  CHECK_FALSE(heavy.flat_feasible);
  CHECK(heavy.flat_server_load == std::numeric_limits<double>::infinity());
  CHECK(heavy.hierarchical_server_load == 150);
}

TEST_CASE(
    "polynomial tradeoff: Remark 3's ordering over a grid — the hierarchical server load N1 d/r1 never exceeds the flat "
    "N1 N2 d/(r_T − N1 s2), strictly below unless s2 = 0 and r_T = r1 N2 (the remark's 'less' is '≤')",
    "[polynomial_tradeoff][remark3][exhaustive]") {
  Index strict = 0, equal = 0, infeasible = 0, total = 0;
  for (Index N1 = 1; N1 <= 5; ++N1)
    for (Index N2 = 1; N2 <= 6; ++N2)
      for (Index r1 = 1; r1 <= N1; ++r1)
        for (Index r2 = 1; r2 <= N2; ++r2)
          for (Index s2 = 0; s2 < r2; ++s2)
            for (Index rT = r1 * r2; rT <= r1 * N2; ++rT) {
              INFO("N1 = " << N1 << ", N2 = " << N2 << ", r1 = " << r1 << ", r2 = " << r2 << ", s2 = " << s2 << ", r_T = " << rT);
              const auto r = gradcode::compare_flat_hierarchical({.dimension = 60,
                                                                  .clusters = N1,
                                                                  .workers_per_cluster = N2,
                                                                  .relay_replication = r1,
                                                                  .worker_replication = r2,
                                                                  .worker_stragglers = s2,
                                                                  .flat_replication = rT});
              ++total;
              CHECK(r.hierarchical_server_load == Approx(static_cast<double>(N1) * 60 / static_cast<double>(r1)).epsilon(1e-15));
              CHECK(r.flat_feasible == (rT > N1 * s2));
              if (!r.flat_feasible) {
                ++infeasible;
                CHECK(std::isinf(r.flat_server_load));
                continue;
              }
              CHECK(r.hierarchical_server_load <= r.flat_server_load * (1 + 1e-15));
              CHECK(r.server_load_ratio >= 1 - 1e-15);
              CHECK(r.flat_server_waited <= r.flat_server_load);
              if (s2 == 0 && rT == r1 * N2) {
                CHECK(r.flat_server_load == Approx(r.hierarchical_server_load).epsilon(1e-15));
                ++equal;
              } else {
                CHECK(r.flat_server_load > r.hierarchical_server_load * (1 + 1e-12));
                ++strict;
              }
            }
  std::printf(
      "[gradcode polynomial tradeoff] Remark 3: %lld settings, hierarchical strictly lower in %lld, equal in %lld, "
      "flat infeasible in %lld\n",
      static_cast<long long>(total), static_cast<long long>(strict), static_cast<long long>(equal),
      static_cast<long long>(infeasible));
  CHECK(strict > 100);
  CHECK(equal > 10);
  CHECK(infeasible > 10);
}

TEST_CASE(
    "polynomial tradeoff: Remark 3's hierarchical loads are the message lengths of the constructed code on place_partitions' "
    "placement, whose r_T is r1·r2",
    "[polynomial_tradeoff][remark3]") {
  for (Index N1 : {2, 3, 4})
    for (Index N2 : {2, 3, 4})
      for (Index r1 = 1; r1 <= N1; ++r1)
        for (Index r2 = 1; r2 <= N2; ++r2)
          for (Index s2 = 0; s2 < r2; ++s2) {
            const Index K = 2 * N1 * N2, d = 2 * r1 * (r2 - s2) * 3;
            INFO("N1 = " << N1 << ", N2 = " << N2 << ", r1 = " << r1 << ", r2 = " << r2 << ", s2 = " << s2);
            const auto clusters = gradcode::place_partitions({.workers = std::vector<Index>(static_cast<std::size_t>(N1), N2),
                                                              .partitions = K,
                                                              .relay_replication = r1,
                                                              .worker_replication = {r2}});
            const auto rep = gradcode::replication_of(clusters);
            CHECK(rep.relay_replication == r1);
            CHECK(rep.flat_replication == r1 * r2);
            const gradcode::polynomial_hgc<double> code({.dimension = d, .clusters = clusters, .worker_stragglers = {s2}});
            const auto r = gradcode::compare_flat_hierarchical({.dimension = d,
                                                                .clusters = N1,
                                                                .workers_per_cluster = N2,
                                                                .relay_replication = r1,
                                                                .worker_replication = r2,
                                                                .worker_stragglers = s2});
            CHECK(r.flat_replication == rep.flat_replication);
            CHECK(r.hierarchical_relay_message == static_cast<double>(code.relay_message_length()));
            CHECK(r.hierarchical_server_load == static_cast<double>(N1 * code.relay_message_length()));
            for (Index i = 0; i < N1; ++i) {
              CHECK(r.hierarchical_worker_message == static_cast<double>(code.worker_message_length(i)));
              CHECK(r.hierarchical_relay_load == static_cast<double>((N2 - s2) * code.worker_message_length(i)));
            }
          }
}

TEST_CASE("polynomial tradeoff: infeasible or inconsistent parameters throw invalid_parameters naming the constraint",
          "[polynomial_tradeoff][errors]") {
  const polynomial_load_params ok{.dimension = 10, .workers = {3, 3, 3}, .relay_replication = 2, .worker_replication = {2}};
  CHECK_NOTHROW(gradcode::polynomial_hgc_loads(ok));
  auto p = ok;
  p.relay_stragglers = 2;
  CHECK_THROWS_MATCHES(gradcode::polynomial_hgc_loads(p), invalid_parameters,
                       what_contains("m1 = r1 − 2a1 − s1 = 2 − 2·0 − 2 = 0 < 1"));
  p = ok;
  p.worker_adversaries = {1};
  CHECK_THROWS_MATCHES(gradcode::polynomial_hgc_loads(p), invalid_parameters,
                       what_contains("cluster 0: m2 = r2 − 2a2 − s2 = 2 − 2·1 − 0 = 0 < 1"));
  p = ok;
  p.worker_replication = {2, 4, 2};
  CHECK_THROWS_MATCHES(gradcode::polynomial_hgc_loads(p), invalid_parameters, what_contains("cluster 1: r2 = 4"));
  p = ok;
  p.worker_replication = {2, 2};
  CHECK_THROWS_MATCHES(gradcode::polynomial_hgc_loads(p), invalid_parameters, what_contains("has 2 values for N1 = 3"));
  p = ok;
  p.worker_replication = {};
  CHECK_THROWS_MATCHES(gradcode::polynomial_hgc_loads(p), invalid_parameters, what_contains("worker_replication (r2) is empty"));
  p = ok;
  p.relay_replication = 4;
  CHECK_THROWS_MATCHES(gradcode::polynomial_hgc_loads(p), invalid_parameters, what_contains("need r1 <= N1 = 3"));
  p = ok;
  p.dimension = 0;
  CHECK_THROWS_MATCHES(gradcode::polynomial_hgc_loads(p), invalid_parameters, what_contains("d = 0"));
  p = ok;
  p.workers = {};
  CHECK_THROWS_MATCHES(gradcode::polynomial_hgc_loads(p), invalid_parameters, what_contains("no clusters"));
  p = ok;
  p.relay_adversaries = -1;
  CHECK_THROWS_MATCHES(gradcode::polynomial_hgc_loads(p), invalid_parameters, what_contains("a1 = -1"));
  p = ok;
  p.workers = {3, Index{1} << 40, 3};
  CHECK_THROWS_MATCHES(gradcode::polynomial_hgc_loads(p), invalid_parameters, what_contains("<= 2^30"));
  // Remark 1 takes tang2024's ranges.
  const std::vector<Index> m = {3, 3, 3};
  CHECK_THROWS_MATCHES(gradcode::hgc_as_polynomial(m, 9, 3, 0, 10), invalid_parameters,
                       what_contains("s_e = 3 outside [0, n = 3)"));
  CHECK_THROWS_MATCHES(gradcode::tang2024_hgc_loads(m, 9, 0, 3, 10), invalid_parameters,
                       what_contains("s_w = 3 outside [0, min m_i = 3)"));
  CHECK_THROWS_MATCHES(gradcode::hgc_as_polynomial(m, 0, 0, 0, 10), invalid_parameters, what_contains("need K >= 1"));
  CHECK_THROWS_AS(gradcode::tang2024_hgc_loads(m, 9, 0, 0, 0), invalid_parameters);
  CHECK_THROWS_MATCHES(gradcode::edge_communication_load(m, 3, 0, 0), invalid_parameters,
                       what_contains("edge 3 outside [0, n = 3)"));
  // Remark 3: r_T must fit the placement, the hierarchical code must exist.
  const gradcode::flat_comparison_params r3{.dimension = 10,
                                            .clusters = 3,
                                            .workers_per_cluster = 3,
                                            .relay_replication = 2,
                                            .worker_replication = 2,
                                            .worker_stragglers = 1};
  auto q = r3;
  q.flat_replication = 7;
  CHECK_THROWS_MATCHES(gradcode::compare_flat_hierarchical(q), invalid_parameters,
                       what_contains("need 4 = r1·r2 <= r_T <= r1·N2 = 6"));
  q.flat_replication = 3;
  CHECK_THROWS_AS(gradcode::compare_flat_hierarchical(q), invalid_parameters);
  q = r3;
  q.worker_stragglers = 2;
  CHECK_THROWS_MATCHES(gradcode::compare_flat_hierarchical(q), invalid_parameters,
                       what_contains("m2 = r2 − 2a2 − s2 = 2 − 2·0 − 2"));
  q = r3;
  q.clusters = 0;
  CHECK_THROWS_MATCHES(gradcode::compare_flat_hierarchical(q), invalid_parameters, what_contains("N1 = 0"));
  CHECK_THROWS_MATCHES(gradcode::replication_of(std::vector<assignment>{}), invalid_parameters, what_contains("no clusters"));
  const std::vector<assignment> mixed = {assignment(4, {{0, 1}, {2, 3}}), assignment(5, {{0, 1, 2, 3, 4}})};
  CHECK_THROWS_MATCHES(gradcode::replication_of(mixed), invalid_parameters, what_contains("cluster 1 is over K = 5"));
}

}  // namespace polynomial_tradeoff_test
