// SPDX-License-Identifier: MIT
// Polynomial hierarchical gradient code (include/gradcode/hierarchical/polynomial.hpp;
// gholami2025 §IV–V): the §IV example as a known answer (printed worker, relay and server
// values, and the two misprints), every placement of ≤ s stragglers and ≤ a adversaries at both
// layers of a small system, random patterns at N1 = N2 = 32, loads equal to Theorem 1's C1*,
// C2^(i)*, the error growth of the paper's points vs. the unit circle, and the typed errors.
//
// Indices are 0-based in code and 1-based in the paper: W_(1,3) is worker_id{0, 2}, relay-3 is
// relay 2, g_9[2] is partition 8, part 1. Relative error is ‖ĝ − g‖/‖g‖ against Σ_k g_k summed in
// double from the very Scalar partials the code encodes (DESIGN.md: ≤ 1e-9 double, ≤ 1e-4 float).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include <gradcode/core/assignment.hpp>
#include <gradcode/core/errors.hpp>
#include <gradcode/hierarchical/polynomial.hpp>

#include "test_support.hpp"

using gradcode::assignment;
using gradcode::corrupted_result;
using gradcode::Index;
using gradcode::invalid_input;
using gradcode::invalid_parameters;
using gradcode::matrix;
using gradcode::not_decodable;
using gradcode::place_partitions;
using gradcode::point_family;
using gradcode::polynomial_hgc;
using gradcode::polynomial_hgc_params;
using gradcode::polynomial_placement;
using gradcode::polynomial_round;
using gradcode::robust_options;
using gradcode::robust_report;
using gradcode::vector;
using gradcode::worker_id;
using complex = std::complex<double>;
using gradcode::test::error_bound;
using gradcode::test::scalar_name;
using gradcode::test::test_seed;
using gradcode::test::what_contains;

namespace {

constexpr const char* section4 = "gholami2025 §IV (N1 = N2 = 3, K = 9, r1 = 2, s2 = 1)";

// --- §IV example ----------------------------------------------------------------------------

/// Γ_(i,j) as printed (1-based partitions).
std::vector<assignment> example_clusters() {
  auto cluster = [](std::vector<std::vector<Index>> h) {
    for (auto& v : h)
      for (auto& x : v) --x;
    return assignment(9, std::move(h));
  };
  return {cluster({{1, 3, 7, 9}, {1, 3, 4, 6}, {4, 6, 7, 9}}), cluster({{1, 2, 7, 8}, {1, 2, 4, 5}, {4, 5, 7, 8}}),
          cluster({{2, 3, 8, 9}, {2, 3, 5, 6}, {5, 6, 8, 9}})};
}

polynomial_hgc<double> example_code() {
  return polynomial_hgc<double>(
      {.dimension = 2, .clusters = example_clusters(), .worker_stragglers = {1}, .points = point_family::paper});
}

/// A printed coefficient: g_k[l] · num/den (k, l 1-based).
struct term {
  int k, l;
  double num, den;
};
using printed = std::vector<term>;

// Worker messages g̃_(1,1), g̃_(1,2), g̃_(1,3) (§IV, typed as printed).
const printed worker_11{{1, 1, 8, 9},  {3, 1, 2, 3},  {7, 1, 2, 3},  {9, 1, 1, 2},
                        {1, 2, -1, 3}, {3, 2, -2, 9}, {7, 2, -1, 4}, {9, 2, -1, 6}};
const printed worker_12{{1, 1, 4, 9},  {3, 1, 1, 3},  {4, 1, -4, 3}, {6, 1, -1, 1},
                        {1, 2, -1, 6}, {3, 2, -1, 9}, {4, 2, 1, 2},  {6, 2, 1, 3}};
const printed worker_13{{4, 1, -8, 3}, {6, 1, -2, 1}, {7, 1, -2, 3}, {9, 1, -1, 2},
                        {4, 2, 1, 1},  {6, 2, 2, 3},  {7, 2, 1, 4},  {9, 2, 1, 6}};
// Relay messages g̃_1, g̃_2, g̃_3.
const printed relay_1{{1, 1, 4, 3},  {3, 1, 1, 1},  {4, 1, 4, 3},  {6, 1, 1, 1},  {7, 1, 4, 3},  {9, 1, 1, 1},
                      {1, 2, -1, 2}, {3, 2, -1, 3}, {4, 2, -1, 2}, {6, 2, -1, 3}, {7, 2, -1, 2}, {9, 2, -1, 3}};
const printed relay_2{{1, 1, 1, 1},  {2, 1, -3, 1}, {4, 1, 1, 1},  {5, 1, -3, 1}, {7, 1, 1, 1},  {8, 1, -3, 1},
                      {1, 2, -1, 2}, {2, 2, 1, 1},  {4, 2, -1, 2}, {5, 2, 1, 1},  {7, 2, -1, 2}, {8, 2, 1, 1}};
const printed relay_3{{2, 1, -8, 1}, {3, 1, -2, 1}, {5, 1, -8, 1}, {6, 1, -2, 1}, {8, 1, -8, 1}, {9, 1, -2, 1},
                      {2, 2, 3, 1},  {3, 2, 1, 1},  {5, 2, 3, 1},  {6, 2, 1, 1},  {8, 2, 3, 1},  {9, 2, 1, 1}};

/// printed coefficient of g_k[l] (0 when absent).
double coefficient(const printed& p, int k, int l) {
  for (const auto& t : p)
    if (t.k == k && t.l == l) return t.num / t.den;
  return 0;
}

/// A printed polynomial term g_k[l] · a(x − root)/den.
struct poly_term {
  int k, l;
  double a, root, den;
};
// f_intraC^(1..3) as printed (§IV); the g_5[2] term of f_intraC^(3) is printed with den = +1.
const std::vector<poly_term> intra_1{{1, 1, 4, 3, -9}, {3, 1, 1, 3, -3}, {4, 1, 4, 1, -3}, {6, 1, 1, 1, -1},
                                     {7, 1, 2, 2, -3}, {9, 1, 1, 2, -2}, {1, 2, 1, 3, 6},  {3, 2, 1, 3, 9},
                                     {4, 2, 1, 1, 2},  {6, 2, 1, 1, 3},  {7, 2, 1, 2, 4},  {9, 2, 1, 2, 6}};
const std::vector<poly_term> intra_2{{1, 1, 1, 3, -3}, {2, 1, 1, 3, 1},  {4, 1, 1, 1, -1}, {5, 1, 3, 1, 1},
                                     {7, 1, 1, 2, -2}, {8, 1, 3, 2, 2},  {1, 2, 1, 3, 6},  {2, 2, 1, 3, -3},
                                     {4, 2, 1, 1, 2},  {5, 2, 1, 1, -1}, {7, 2, 1, 2, 4},  {8, 2, 1, 2, -2}};
const std::vector<poly_term> intra_3_printed{{2, 1, 8, 3, 3}, {3, 1, 2, 3, 3},  {5, 1, 8, 1, 1},  {6, 1, 2, 1, 1},
                                             {8, 1, 4, 2, 1}, {9, 1, 1, 2, 1},  {2, 2, 1, 3, -1}, {3, 2, 1, 3, -3},
                                             {5, 2, 3, 1, 1}, {6, 2, 1, 1, -1}, {8, 2, 3, 2, -2}, {9, 2, 1, 2, -2}};
// f_C2S: (Σ g_k[1](x − root)/den)(x + 1) + (Σ g_k[2](x − root)/den)(−x); the last term of the second
// group is printed as g_9[1].
const std::vector<poly_term> c2s_printed{{1, 1, 1, 3, -3}, {2, 1, 1, 1, -1}, {3, 1, 1, 2, -2}, {4, 1, 1, 3, -3}, {5, 1, 1, 1, -1},
                                         {6, 1, 1, 2, -2}, {7, 1, 1, 3, -3}, {8, 1, 1, 1, -1}, {9, 1, 1, 2, -2}, {1, 2, 1, 3, -4},
                                         {2, 2, 1, 1, -2}, {3, 2, 1, 2, -3}, {4, 2, 1, 3, -4}, {5, 2, 1, 1, -2}, {6, 2, 1, 2, -3},
                                         {7, 2, 1, 3, -4}, {8, 2, 1, 1, -2}, {9, 1, 1, 2, -3} /* sic: g_9[1] in group 2 */};

/// Value at x of the coefficient of g_k[l] in an intra-cluster polynomial (sum of its terms).
double intra_at(const std::vector<poly_term>& f, int k, int l, double x) {
  double v = 0;
  for (const auto& t : f)
    if (t.k == k && t.l == l) v += t.a * (x - t.root) / t.den;
  return v;
}
/// Value at x of the coefficient of g_k[l] in f_C2S; `group` of each term from its position
/// (first 9 terms are multiplied by (x + 1), the rest by −x).
double c2s_at(const std::vector<poly_term>& f, int k, int l, double x) {
  double v = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const auto& t = f[i];
    if (t.k == k && t.l == l) v += t.a * (x - t.root) / t.den * (i < 9 ? x + 1 : -x);
  }
  return v;
}

// --- helpers for the property tests ---------------------------------------------------------

using gradcode::test::random_partials;
using gradcode::test::relative_error;

/// What an adversary sends instead of its message.
enum class attack { large, subtle, identical, negate };
const char* attack_name(attack a) {
  switch (a) {
    case attack::large:
      return "random large";
    case attack::subtle:
      return "subtly perturbed (1e-6 relative; float 1e-2)";
    case attack::identical:
      return "one shared vector";
    case attack::negate:
      return "negated";
  }
  return "?";
}
template <class Scalar>
void apply_attack(attack a, Eigen::Ref<vector<Scalar>> msg, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  // float: 1e-2, above what a node next to missing ones (parity weight ‖h_j‖ ≈ 0.02) shows above τ
  const double subtle = std::is_same_v<Scalar, float> ? 1e-2 : 1e-6;
  for (Index i = 0; i < msg.size(); ++i) switch (a) {
      case attack::large:
        msg[i] = static_cast<Scalar>(1e6 * normal(rng));
        break;
      case attack::subtle:
        msg[i] = static_cast<Scalar>(msg[i] * (1 + subtle * normal(rng)));
        break;
      case attack::identical:
        msg[i] = static_cast<Scalar>(std::sin(0.37 * static_cast<double>(i)) * 1e3);
        break;
      case attack::negate:
        msg[i] = -msg[i];
        break;
    }
}

/// Every (stragglers, adversaries) choice with |S| ≤ s, |A| ≤ a, S ∩ A = ∅, over n nodes.
std::vector<std::pair<std::vector<Index>, std::vector<Index>>> fault_patterns(Index n, Index s, Index a) {
  std::vector<std::pair<std::vector<Index>, std::vector<Index>>> out;
  std::vector<std::vector<Index>> subsets;
  std::vector<Index> cur;
  std::function<void(Index, Index)> rec = [&](Index start, Index max) {
    subsets.push_back(cur);
    if (static_cast<Index>(cur.size()) == max) return;
    for (Index i = start; i < n; ++i) {
      cur.push_back(i);
      rec(i + 1, max);
      cur.pop_back();
    }
  };
  rec(0, std::max(s, a));
  for (const auto& st : subsets) {
    if (static_cast<Index>(st.size()) > s) continue;
    for (const auto& ad : subsets) {
      if (static_cast<Index>(ad.size()) > a) continue;
      bool disjoint = true;
      for (Index x : ad)
        if (std::find(st.begin(), st.end(), x) != st.end()) disjoint = false;
      if (disjoint) out.emplace_back(st, ad);
    }
  }
  return out;
}

std::vector<Index> random_subset(Index n, Index size, std::mt19937_64& rng, const std::vector<Index>& avoid = {}) {
  std::vector<Index> all;
  for (Index i = 0; i < n; ++i)
    if (std::find(avoid.begin(), avoid.end(), i) == avoid.end()) all.push_back(i);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(static_cast<std::size_t>(std::min<Index>(size, static_cast<Index>(all.size()))));
  std::sort(all.begin(), all.end());
  return all;
}

/// A round with the given faults; adversaries attack with `kind`. Returns the result.
template <class Scalar>
gradcode::polynomial_round_result<Scalar> run_round(const polynomial_hgc<Scalar>& code, const matrix<Scalar>& partials,
                                                    const std::vector<Index>& slow_relays, const std::vector<Index>& bad_relays,
                                                    const std::vector<std::vector<Index>>& slow_workers,
                                                    const std::vector<std::vector<Index>>& bad_workers, attack kind,
                                                    std::mt19937_64& rng) {
  polynomial_round<Scalar> f;
  f.straggling_relays = slow_relays;
  f.adversarial_relays = bad_relays;
  for (Index n = 0; n < code.relays(); ++n) {
    for (Index j : slow_workers[static_cast<std::size_t>(n)]) f.straggling_workers.push_back({n, j});
    for (Index j : bad_workers[static_cast<std::size_t>(n)]) f.adversarial_workers.push_back({n, j});
  }
  f.corrupt_worker = [&](worker_id, Eigen::Ref<vector<Scalar>> m) { apply_attack<Scalar>(kind, m, rng); };
  f.corrupt_relay = [&](Index, Eigen::Ref<vector<Scalar>> m) { apply_attack<Scalar>(kind, m, rng); };
  return code.simulate_round(partials, f);
}

}  // namespace

// =============================================================================================
// Known answer: gholami2025 §IV
// =============================================================================================

TEST_CASE("polynomial HGC: gholami2025 §IV derives r1 = r2,i = 2, m1 = 2, m2^(i) = 1 and loads C1 = C2 = d/2",
          "[polynomial][kat]") {
  const auto code = example_code();
  INFO(section4);
  CHECK(code.relays() == 3);
  CHECK(code.partitions() == 9);
  CHECK(code.relay_replication() == 2);
  CHECK(code.relay_parts() == 2);
  for (Index n = 0; n < 3; ++n) {
    CHECK(code.workers(n) == 3);
    CHECK(code.worker_replication(n) == 2);
    CHECK(code.worker_parts(n) == 1);
    CHECK(code.worker_message_length(n) == 1);  // d / (m1 m2) = 2 / 2
  }
  CHECK(code.relay_message_length() == 1);  // d / m1
  CHECK(std::vector<Index>(code.relay_partitions(0).begin(), code.relay_partitions(0).end()) ==
        std::vector<Index>{0, 2, 3, 5, 6, 8});
  CHECK(code.relay_points().nodes == std::vector<complex>{1.0, 2.0, 3.0});
  CHECK(code.relay_points().targets == std::vector<complex>{0.0, -1.0});
}

TEST_CASE("polynomial HGC: gholami2025 §IV worker messages g̃_(1,1), g̃_(1,2), g̃_(1,3) have the printed coefficients",
          "[polynomial][kat]") {
  const auto code = example_code();
  const printed* table[3] = {&worker_11, &worker_12, &worker_13};
  for (Index j = 0; j < 3; ++j)
    for (int k = 1; k <= 9; ++k)
      for (int l = 1; l <= 2; ++l) {
        INFO(section4 << ": coefficient of g_" << k << "[" << l << "] in g̃_(1," << j + 1 << ")");
        const double expected = coefficient(*table[j], k, l);
        CHECK(std::abs(code.worker_coefficient({0, j}, k - 1, l - 1, 0) - expected) < 1e-15);
        // the encoder itself: g = unit vector at element l of partition k
        matrix<double> g = matrix<double>::Zero(2, 9);
        g(l - 1, k - 1) = 1;
        CHECK(std::abs(code.encode({0, j}, g)[0] - expected) < 1e-15);
      }
}

TEST_CASE(
    "polynomial HGC: gholami2025 §IV relay messages g̃_1, g̃_2, g̃_3 have the printed coefficients, decoded from every "
    "pair of a cluster's workers",
    "[polynomial][kat]") {
  const auto code = example_code();
  const printed* table[3] = {&relay_1, &relay_2, &relay_3};
  for (Index n = 0; n < 3; ++n)
    for (int k = 1; k <= 9; ++k)
      for (int l = 1; l <= 2; ++l) {
        const double expected = coefficient(*table[n], k, l);
        INFO(section4 << ": coefficient of g_" << k << "[" << l << "] in g̃_" << n + 1);
        CHECK(std::abs(code.relay_coefficient(n, k - 1, l - 1) - expected) < 1e-15);
        matrix<double> g = matrix<double>::Zero(2, 9);
        g(l - 1, k - 1) = 1;
        matrix<double> msgs(1, 3);
        for (Index j = 0; j < 3; ++j) msgs(0, j) = code.encode({n, j}, g)[0];
        for (Index straggler = 0; straggler < 3; ++straggler) {  // s2 = 1: any two workers
          std::vector<Index> ids;
          for (Index j = 0; j < 3; ++j)
            if (j != straggler) ids.push_back(j);
          matrix<double> received(1, 2);
          for (std::size_t t = 0; t < 2; ++t) received(0, static_cast<Index>(t)) = msgs(0, ids[t]);
          INFO("worker (" << n + 1 << "," << straggler + 1 << ") straggles");
          CHECK(std::abs(code.relay_decode(n, ids, received)[0] - expected) < 1e-14);
        }
      }
}

TEST_CASE(
    "polynomial HGC: gholami2025 §IV server recovers g[1] = f_C2S(0) and g[2] = f_C2S(−1) exactly from integer "
    "gradients, for every straggler choice",
    "[polynomial][kat]") {
  const auto code = example_code();
  std::mt19937_64 rng(51);
  matrix<double> g(2, 9);
  for (Index i = 0; i < g.size(); ++i) g.data()[i] = static_cast<double>(static_cast<int>(rng() % 21) - 10);
  const double g1 = g.row(0).sum(), g2 = g.row(1).sum();
  for (Index a = 0; a < 3; ++a)
    for (Index b = 0; b < 3; ++b)
      for (Index c = 0; c < 3; ++c) {
        polynomial_round<double> f;
        f.straggling_workers = {{0, a}, {1, b}, {2, c}};
        const auto r = code.simulate_round(g, f);
        INFO(section4 << ": stragglers W_(1," << a + 1 << "), W_(2," << b + 1 << "), W_(3," << c + 1 << ")");
        CHECK(std::abs(r.gradient[0] - g1) < 1e-12);
        CHECK(std::abs(r.gradient[1] - g2) < 1e-12);
      }
}

TEST_CASE(
    "polynomial HGC: gholami2025 §IV printed f_intraC^(n) and f_C2S match the scheme up to the two misprints "
    "(g_9[1] for g_9[2] in f_C2S; +1 for −1 in f_intraC^(3)'s g_5[2] term)",
    "[polynomial][kat]") {
  const auto code = example_code();
  auto intra_3 = intra_3_printed;
  for (auto& t : intra_3)
    if (t.k == 5 && t.l == 2) t.den = -1;  // misprint 2
  auto c2s = c2s_printed;
  c2s.back().l = 2;  // misprint 1
  const std::vector<poly_term>* intra[3] = {&intra_1, &intra_2, &intra_3};
  for (Index n = 0; n < 3; ++n)
    for (int k = 1; k <= 9; ++k)
      for (int l = 1; l <= 2; ++l) {
        INFO(section4 << ": g_" << k << "[" << l << "], cluster " << n + 1);
        for (Index j = 0; j < 3; ++j)  // worker (n, j) evaluates f_intraC^(n) at α_j = j + 1
          CHECK(std::abs(code.worker_coefficient({n, j}, k - 1, l - 1, 0) - intra_at(*intra[n], k, l, double(j + 1))) < 1e-14);
        CHECK(std::abs(code.relay_coefficient(n, k - 1, l - 1) - c2s_at(c2s, k, l, double(n + 1))) < 1e-14);
        CHECK(std::abs(code.relay_coefficient(n, k - 1, l - 1) - intra_at(*intra[n], k, l, 0.0)) <
              1e-14);  // g̃_n = f_intraC^(n)(β = 0)
      }
  // As printed, both polynomials contradict the printed relay message g̃_3 = … −2g_9[1] … +3g_5[2] … +g_9[2].
  CHECK(c2s_at(c2s_printed, 9, 1, 3.0) == Approx(-1.0));        // printed g̃_3 has −2
  CHECK(c2s_at(c2s_printed, 9, 2, 3.0) == 0.0);                 // printed g̃_3 has +1
  CHECK(intra_at(intra_3_printed, 5, 2, 0.0) == Approx(-3.0));  // printed g̃_3 has +3
  CHECK(coefficient(relay_3, 9, 1) == -2);
  CHECK(coefficient(relay_3, 9, 2) == 1);
  CHECK(coefficient(relay_3, 5, 2) == 3);
}

// =============================================================================================
// Parameters, assignment and loads
// =============================================================================================

TEST_CASE("polynomial HGC: r1 and r2,i are the minima of eqs. (5)-(6) over a heterogeneous assignment, m1 and m2^(i) follow",
          "[polynomial]") {
  // capacities 1:2:3 inside each cluster, cluster sizes 4, 5, 6, r1 = 3 of N1 = 3? use N1 = 4.
  const polynomial_placement placement{.workers = {4, 5, 6, 7},
                                       .partitions = 10,
                                       .relay_replication = 3,
                                       .worker_replication = {3, 4, 4, 5},
                                       .capacities = {{1, 2, 3, 1}, {1, 1, 2, 2, 3}, {}, {3, 1, 1, 1, 1, 1, 2}}};
  const auto clusters = place_partitions(placement);
  const polynomial_hgc<double> code({.dimension = 120,
                                     .clusters = clusters,
                                     .relay_stragglers = 1,
                                     .relay_adversaries = 0,
                                     .worker_stragglers = {1, 1, 1, 2},
                                     .worker_adversaries = {0, 1, 0, 1}});
  CHECK(code.relay_replication() == 3);
  CHECK(code.relay_parts() == 2);
  const std::vector<Index> r2{3, 4, 4, 5}, m2{2, 1, 3, 1};
  for (Index n = 0; n < 4; ++n) {
    INFO("cluster " << n);
    CHECK(code.worker_replication(n) == r2[static_cast<std::size_t>(n)]);
    CHECK(code.worker_parts(n) == m2[static_cast<std::size_t>(n)]);
    // every partition of the cluster is on exactly r2 workers (the placement's promise)
    for (Index k : code.relay_partitions(n))
      CHECK(static_cast<Index>(code.cluster_assignment(n).holders_of(k).size()) == r2[static_cast<std::size_t>(n)]);
    // heavier workers hold more
    if (n == 0) CHECK(code.worker_partitions({0, 2}).size() > code.worker_partitions({0, 0}).size());
  }
  for (Index k = 0; k < 10; ++k) {
    Index clusters_holding = 0;
    for (Index n = 0; n < 4; ++n)
      clusters_holding += std::binary_search(code.relay_partitions(n).begin(), code.relay_partitions(n).end(), k);
    CHECK(clusters_holding == 3);
  }
  std::mt19937_64 rng(52);
  const auto g = random_partials<double>(120, 10, rng);
  const auto r = code.simulate_round(g, {.straggling_workers = {{0, 1}, {1, 4}, {2, 0}, {3, 2}, {3, 6}},
                                         .straggling_relays = {2},
                                         .adversarial_workers = {{1, 0}, {3, 3}}});
  CHECK(relative_error(r.gradient, g) < 1e-12);
  CHECK(r.relays[1].corrupted == std::vector<Index>{0});
  CHECK(r.relays[3].corrupted == std::vector<Index>{3});
}

TEST_CASE("polynomial HGC: measured message lengths equal Theorem 1's C1* = d/m1 and C2^(i)* = d/(m1 m2^(i)) exactly",
          "[polynomial]") {
  for (auto family : {point_family::unit_circle, point_family::chebyshev}) {
    const polynomial_placement placement{
        .workers = {6, 8, 7}, .partitions = 12, .relay_replication = 3, .worker_replication = {4, 6, 5}};
    polynomial_hgc_params params{.dimension = 0,
                                 .clusters = place_partitions(placement),
                                 .relay_stragglers = 1,
                                 .worker_stragglers = {1, 1, 2},
                                 .worker_adversaries = {0, 1, 0},
                                 .points = family};
    // m1 = 2, m2 = (3, 3, 3): d = 2·m1·lcm(m2)·5 makes every load an integer (w = 2 for complex points)
    params.dimension = 2 * 2 * 3 * 5;
    const polynomial_hgc<double> code(params);
    INFO(to_string(family));
    CHECK(code.relay_message_length() == code.dimension() / code.relay_parts());
    CHECK(static_cast<double>(code.relay_message_length()) == code.relay_load_bound());
    std::mt19937_64 rng(53);
    const auto g = random_partials<double>(code.dimension(), 12, rng);
    for (Index n = 0; n < 3; ++n) {
      CHECK(code.worker_message_length(n) == code.dimension() / (code.relay_parts() * code.worker_parts(n)));
      CHECK(static_cast<double>(code.worker_message_length(n)) == code.worker_load_bound(n));
      // what a worker actually sends and what its relay actually forwards
      matrix<double> msgs(code.worker_message_length(n), code.workers(n));
      for (Index j = 0; j < code.workers(n); ++j) msgs.col(j) = code.encode({n, j}, g);
      std::vector<Index> ids(static_cast<std::size_t>(code.workers(n)));
      std::iota(ids.begin(), ids.end(), Index{0});
      CHECK(static_cast<double>(code.relay_decode(n, ids, msgs).size()) == code.relay_load_bound());
    }
    // with d not divisible: at most w·m1·m2 − 1 padding reals over the bound, never below it
    for (Index d : {Index{59}, Index{61}, Index{1}, Index{7}}) {
      params.dimension = d;
      const polynomial_hgc<double> odd(params);
      INFO("d = " << d);
      const auto c1 = static_cast<double>(odd.relay_message_length());
      CHECK(c1 >= odd.relay_load_bound());
      CHECK(c1 < odd.relay_load_bound() + 2);
      for (Index n = 0; n < 3; ++n) CHECK(static_cast<double>(odd.worker_message_length(n)) >= odd.worker_load_bound(n));
    }
  }
}

TEST_CASE("polynomial HGC: zero padding — every d from 1 to 40 decodes exactly (odd d included, complex and real points)",
          "[polynomial][exhaustive]") {
  std::mt19937_64 rng(54);
  for (auto family : {point_family::unit_circle, point_family::chebyshev})
    for (Index d = 1; d <= 40; ++d) {
      const polynomial_placement placement{
          .workers = {5, 5, 5, 5}, .partitions = 8, .relay_replication = 3, .worker_replication = {4}};
      const polynomial_hgc<double> code({.dimension = d,
                                         .clusters = place_partitions(placement),
                                         .relay_stragglers = 1,
                                         .worker_stragglers = {1},
                                         .worker_adversaries = {1},
                                         .points = family});
      const auto g = random_partials<double>(d, 8, rng);
      const auto r = code.simulate_round(
          g, {.straggling_workers = {{0, 1}, {2, 4}}, .straggling_relays = {3}, .adversarial_workers = {{1, 2}}});
      INFO(to_string(family) << " d = " << d);
      CHECK(relative_error(r.gradient, g) < 1e-12);
      CHECK(r.relays[1].corrupted == std::vector<Index>{2});
    }
}

TEST_CASE(
    "polynomial HGC: the worker encode kernel equals a dense oracle Σ c_(n,j)(k,l1,l2)·g_k[l1,l2] built from the "
    "coefficients and the zero-padded layout (odd d, complex and real points)",
    "[polynomial]") {
  std::mt19937_64 rng(63);
  for (auto family : {point_family::unit_circle, point_family::chebyshev})
    for (Index d : {Index{37}, Index{64}, Index{101}}) {
      const polynomial_placement placement{
          .workers = {5, 6, 7}, .partitions = 7, .relay_replication = 3, .worker_replication = {4, 5, 5}};
      const polynomial_hgc<double> code({.dimension = d,
                                         .clusters = place_partitions(placement),
                                         .relay_stragglers = 1,
                                         .worker_stragglers = {1, 1, 2},
                                         .worker_adversaries = {1, 1, 0},
                                         .points = family});
      const auto g = random_partials<double>(d, 7, rng);
      const Index w = code.relay_points().real ? 1 : 2, m1 = code.relay_parts();
      const Index p1 = (d + w * m1 - 1) / (w * m1);
      for (Index n = 0; n < 3; ++n) {
        const Index m2 = code.worker_parts(n), p2 = (p1 + m2 - 1) / m2;
        for (Index j = 0; j < code.workers(n); ++j) {
          std::vector<complex> oracle(static_cast<std::size_t>(p2), 0.0);
          for (Index k : code.worker_partitions({n, j}))
            for (Index l1 = 0; l1 < m1; ++l1)
              for (Index l2 = 0; l2 < m2; ++l2) {
                const complex c = code.worker_coefficient({n, j}, k, l1, l2);
                for (Index u = 0; u < p2 && l2 * p2 + u < p1; ++u) {
                  const Index first = w * (l1 * p1 + l2 * p2 + u);  // first real of the unit
                  const double re = first < d ? g(first, k) : 0.0;
                  const double im = w == 2 && first + 1 < d ? g(first + 1, k) : 0.0;
                  oracle[static_cast<std::size_t>(u)] += c * (w == 2 ? complex(re, im) : complex(re, 0.0));
                }
              }
          const auto msg = code.encode({n, j}, g);
          REQUIRE(msg.size() == w * p2);
          double err = 0, scale = 1e-300;
          for (Index u = 0; u < p2; ++u) {
            const complex got = w == 2 ? complex(msg[2 * u], msg[2 * u + 1]) : complex(msg[u], 0.0);
            err = std::max(err, std::abs(got - oracle[static_cast<std::size_t>(u)]));
            scale = std::max(scale, std::abs(oracle[static_cast<std::size_t>(u)]));
          }
          INFO(to_string(family) << " d = " << d << " worker (" << n << "," << j << ")");
          CHECK(err <= 1e-13 * scale);
        }
      }
    }
}

TEST_CASE("polynomial HGC: encode_held (only the worker's own partitions) equals encode (full d × K)", "[polynomial]") {
  std::mt19937_64 rng(55);
  const polynomial_placement placement{
      .workers = {6, 6, 6, 6, 6}, .partitions = 15, .relay_replication = 4, .worker_replication = {4}};
  const polynomial_hgc<float> code({.dimension = 101,
                                    .clusters = place_partitions(placement),
                                    .relay_stragglers = 1,
                                    .relay_adversaries = 1,
                                    .worker_stragglers = {1},
                                    .worker_adversaries = {1}});
  const auto g = random_partials<float>(101, 15, rng);
  for (Index n = 0; n < 5; ++n)
    for (Index j = 0; j < 6; ++j) {
      const auto mine = code.worker_partitions({n, j});
      matrix<float> held(101, static_cast<Index>(mine.size()));
      for (std::size_t t = 0; t < mine.size(); ++t) held.col(static_cast<Index>(t)) = g.col(mine[t]);
      vector<float> a(code.worker_message_length(n)), b(code.worker_message_length(n));
      code.encode({n, j}, g, a);
      code.encode_held({n, j}, held, b);
      CHECK(a == b);
    }
}

// =============================================================================================
// Stragglers and adversaries
// =============================================================================================

TEST_CASE(
    "polynomial HGC: every placement of ≤ s stragglers and ≤ a adversaries at both layers is decoded and every "
    "adversary is reported (N1 = N2 = 6, r = 5, s = a = 1, each cluster in turn × every relay pattern)",
    "[polynomial][exhaustive][adversary]") {
  const auto seed = test_seed(56);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const Index n = 6;
  const polynomial_placement placement{
      .workers = std::vector<Index>(6, 6), .partitions = 6, .relay_replication = 5, .worker_replication = {5}};
  const polynomial_hgc<double> code({.dimension = 24,
                                     .clusters = place_partitions(placement),
                                     .relay_stragglers = 1,
                                     .relay_adversaries = 1,
                                     .worker_stragglers = {1},
                                     .worker_adversaries = {1}});
  REQUIRE(code.relay_parts() == 2);
  const auto g = random_partials<double>(24, 6, rng);
  const auto patterns = fault_patterns(n, 1, 1);  // 43 per layer
  REQUIRE(patterns.size() == 43);
  double worst = 0;
  Index rounds = 0, located = 0;
  for (Index focus = 0; focus < n; ++focus)
    for (std::size_t pr = 0; pr < patterns.size(); ++pr)
      for (std::size_t pw = 0; pw < patterns.size(); ++pw) {
        const attack kind = static_cast<attack>((pr + pw + static_cast<std::size_t>(focus)) % 4);
        std::vector<std::vector<Index>> slow(6), bad(6);
        for (Index c = 0; c < n; ++c) {
          if (c == focus) {
            slow[static_cast<std::size_t>(c)] = patterns[pw].first;
            bad[static_cast<std::size_t>(c)] = patterns[pw].second;
          } else {  // other clusters: a random pattern
            const auto& p = patterns[rng() % patterns.size()];
            slow[static_cast<std::size_t>(c)] = p.first;
            bad[static_cast<std::size_t>(c)] = p.second;
          }
        }
        INFO("focus cluster " << focus << ", relay stragglers " << ::Catch::Detail::stringify(patterns[pr].first)
                              << ", adversarial relays " << ::Catch::Detail::stringify(patterns[pr].second)
                              << ", cluster stragglers " << ::Catch::Detail::stringify(slow[static_cast<std::size_t>(focus)])
                              << ", adversarial workers " << ::Catch::Detail::stringify(bad[static_cast<std::size_t>(focus)])
                              << ", attack " << attack_name(kind));
        const auto r = run_round(code, g, patterns[pr].first, patterns[pr].second, slow, bad, kind, rng);
        const double err = relative_error(r.gradient, g);
        worst = std::max(worst, err);
        CHECK(err <= 1e-9);
        CHECK(r.server.corrupted == patterns[pr].second);
        for (Index c = 0; c < n; ++c)
          if (std::find(patterns[pr].first.begin(), patterns[pr].first.end(), c) == patterns[pr].first.end()) {
            CHECK(r.relays[static_cast<std::size_t>(c)].corrupted == bad[static_cast<std::size_t>(c)]);
            located += static_cast<Index>(r.relays[static_cast<std::size_t>(c)].corrupted.size());
          }
        located += static_cast<Index>(r.server.corrupted.size());
        ++rounds;
      }
  std::printf(
      "polynomial HGC exhaustive (N1 = N2 = 6, s = a = 1 per layer): %ld rounds, %ld adversaries located, worst "
      "relative error %.2e\n",
      static_cast<long>(rounds), static_cast<long>(located), worst);
}

TEMPLATE_TEST_CASE(
    "polynomial HGC: N1 = N2 = 32 (1024 workers, r = 12, s = a = 2 per layer), random stragglers and "
    "adversaries at both layers, stays within the error bound and locates every adversary",
    "[polynomial][random][adversary]", float, double) {
  const auto seed = test_seed(57);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const Index n = 32, s = 2, a = 2;
  const polynomial_placement placement{
      .workers = std::vector<Index>(32, 32), .partitions = 64, .relay_replication = 12, .worker_replication = {12}};
  const polynomial_hgc<TestType> code({.dimension = 2 * 6 * 6 * 8,
                                       .clusters = place_partitions(placement),
                                       .relay_stragglers = s,
                                       .relay_adversaries = a,
                                       .worker_stragglers = {s},
                                       .worker_adversaries = {a}});
  REQUIRE(code.relay_parts() == 6);
  const auto g = random_partials<TestType>(code.dimension(), 64, rng);
  const vector<double> exact = g.template cast<double>().rowwise().sum();

  // (1) whole rounds: faults at both layers at once
  double worst_round = 0;
  const int rounds = std::is_same_v<TestType, float> ? 6 : 12;
  for (int t = 0; t < rounds; ++t) {
    const attack kind = static_cast<attack>(t % 4);
    const auto slow_relays = random_subset(n, s, rng);
    const auto bad_relays = random_subset(n, a, rng, slow_relays);
    std::vector<std::vector<Index>> slow(32), bad(32);
    for (Index c = 0; c < n; ++c) {
      slow[static_cast<std::size_t>(c)] = random_subset(n, static_cast<Index>(rng() % (s + 1)), rng);
      bad[static_cast<std::size_t>(c)] =
          random_subset(n, static_cast<Index>(rng() % (a + 1)), rng, slow[static_cast<std::size_t>(c)]);
    }
    INFO("round " << t << ", attack " << attack_name(kind));
    const auto r = run_round(code, g, slow_relays, bad_relays, slow, bad, kind, rng);
    worst_round = std::max(worst_round, relative_error(r.gradient, g));
    CHECK(r.server.corrupted == bad_relays);
    for (Index c = 0; c < n; ++c)
      if (!std::binary_search(slow_relays.begin(), slow_relays.end(), c))
        CHECK(r.relays[static_cast<std::size_t>(c)].corrupted == bad[static_cast<std::size_t>(c)]);
  }
  CHECK(worst_round <= error_bound<TestType>());

  // (2) 1000 random patterns per layer on one honest set of messages
  std::vector<matrix<TestType>> worker_msgs(32);
  matrix<TestType> relay_msgs(code.relay_message_length(), 32);
  std::vector<Index> all(32);
  std::iota(all.begin(), all.end(), Index{0});
  for (Index c = 0; c < n; ++c) {
    auto& m = worker_msgs[static_cast<std::size_t>(c)];
    m.resize(code.worker_message_length(c), 32);
    for (Index j = 0; j < n; ++j) m.col(j) = code.encode({c, j}, g);
    relay_msgs.col(c) = code.relay_decode(c, all, m);
  }
  double worst_relay = 0, worst_server = 0;
  for (int t = 0; t < 1000; ++t) {
    const attack kind = static_cast<attack>(t % 4);
    // worker layer of a random cluster: exact g̃_c from the relay coefficients in double
    const Index c = static_cast<Index>(rng() % 32);
    const auto slow = random_subset(n, s, rng);
    const auto bad = random_subset(n, a, rng, slow);
    std::vector<Index> ids;
    for (Index j = 0; j < n; ++j)
      if (!std::binary_search(slow.begin(), slow.end(), j)) ids.push_back(j);
    matrix<TestType> received(code.worker_message_length(c), static_cast<Index>(ids.size()));
    for (std::size_t q = 0; q < ids.size(); ++q) {
      received.col(static_cast<Index>(q)) = worker_msgs[static_cast<std::size_t>(c)].col(ids[q]);
      if (std::binary_search(bad.begin(), bad.end(), ids[q]))
        apply_attack<TestType>(kind, received.col(static_cast<Index>(q)), rng);
    }
    robust_report rep;
    const auto relay_out = code.relay_decode(c, ids, received, &rep);
    INFO("pattern " << t << " cluster " << c << " stragglers " << ::Catch::Detail::stringify(slow) << " adversaries "
                    << ::Catch::Detail::stringify(bad) << " attack " << attack_name(kind));
    CHECK(rep.corrupted == bad);
    worst_relay = std::max(worst_relay, (relay_out.template cast<double>() - relay_msgs.col(c).template cast<double>()).norm() /
                                            relay_msgs.col(c).template cast<double>().norm());
    // relay layer
    const auto rslow = random_subset(n, s, rng);
    const auto rbad = random_subset(n, a, rng, rslow);
    std::vector<Index> rids;
    for (Index j = 0; j < n; ++j)
      if (!std::binary_search(rslow.begin(), rslow.end(), j)) rids.push_back(j);
    matrix<TestType> rrec(code.relay_message_length(), static_cast<Index>(rids.size()));
    for (std::size_t q = 0; q < rids.size(); ++q) {
      rrec.col(static_cast<Index>(q)) = relay_msgs.col(rids[q]);
      if (std::binary_search(rbad.begin(), rbad.end(), rids[q]))
        apply_attack<TestType>(kind, rrec.col(static_cast<Index>(q)), rng);
    }
    robust_report srep;
    const auto out = code.server_decode(rids, rrec, &srep);
    CHECK(srep.corrupted == rbad);
    worst_server = std::max(worst_server, (out.template cast<double>() - exact).norm() / exact.norm());
  }
  std::printf(
      "polynomial HGC N1 = N2 = 32 <%s>: worst relative error %.2e (%d full rounds), relay layer %.2e, server %.2e "
      "(1000 random patterns each, all adversaries located)\n",
      scalar_name<TestType>(), worst_round, rounds, worst_relay, worst_server);
  CHECK(worst_relay <= error_bound<TestType>());
  CHECK(worst_server <= error_bound<TestType>());
}

TEST_CASE(
    "polynomial HGC: a user assignment of arcs (cyclic-repetition supports) and a scattered random assignment at "
    "N1 = N2 = 32 decode within 1e-9 once the code orders the points",
    "[polynomial][random]") {
  const auto seed = test_seed(58);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const Index n = 32, K = 32, r = 12;
  // arcs: cluster i holds partitions i..i+r−1; worker j of each cluster holds its positions j..j+r−1
  std::vector<std::vector<std::vector<Index>>> arcs(32, std::vector<std::vector<Index>>(32));
  for (Index c = 0; c < n; ++c) {
    std::vector<Index> held;
    for (Index t = 0; t < r; ++t) held.push_back((c + t) % K);
    for (Index j = 0; j < n; ++j)
      for (Index t = 0; t < r; ++t)
        if ((j + t) % n < static_cast<Index>(held.size()))
          arcs[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)].push_back(held[static_cast<std::size_t>((j + t) % n)]);
  }
  // scattered: each partition on r random clusters, on r random workers there
  std::vector<std::vector<std::vector<Index>>> scattered(32, std::vector<std::vector<Index>>(32));
  for (Index k = 0; k < K; ++k)
    for (Index c : random_subset(n, r, rng))
      for (Index j : random_subset(n, r, rng)) scattered[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)].push_back(k);
  for (int which = 0; which < 2; ++which) {
    std::vector<assignment> clusters;
    for (auto& h : which == 0 ? arcs : scattered) clusters.emplace_back(K, h);
    polynomial_hgc_params params{.dimension = 2 * 6 * 6 * 4,
                                 .clusters = clusters,
                                 .relay_stragglers = 2,
                                 .relay_adversaries = 2,
                                 .worker_stragglers = {2},
                                 .worker_adversaries = {2}};
    robust_options loose;
    loose.max_amplification = 1e300;
    loose.max_relative_error = 1e300;  // and refuse nothing on its error estimate
    loose.corruption_tolerance = 1e300;
    loose.locate_corrupted = false;
    params.order_points = false;
    const polynomial_hgc<double> plain(params, loose);
    params.order_points = true;
    const polynomial_hgc<double> ordered(params);
    const auto g = random_partials<double>(params.dimension, K, rng);
    double worst_plain = 0, worst_ordered = 0;
    for (int t = 0; t < 4; ++t) {
      std::vector<std::vector<Index>> slow(32), bad(32);
      for (Index c = 0; c < n; ++c) slow[static_cast<std::size_t>(c)] = random_subset(n, 2, rng);
      const auto slow_relays = random_subset(n, 2, rng);
      worst_plain =
          std::max(worst_plain, relative_error(run_round(plain, g, slow_relays, {}, slow, bad, attack::large, rng).gradient, g));
      for (Index c = 0; c < n; ++c)
        bad[static_cast<std::size_t>(c)] = random_subset(n, 2, rng, slow[static_cast<std::size_t>(c)]);
      const auto res = run_round(ordered, g, slow_relays, random_subset(n, 2, rng, slow_relays), slow, bad, attack::large, rng);
      worst_ordered = std::max(worst_ordered, relative_error(res.gradient, g));
    }
    std::printf(
        "polynomial HGC N1 = N2 = 32, %s assignment: coefficient growth %.2g/%.2g -> %.2g/%.2g (relay/worker "
        "layer), worst relative error %.2e -> %.2e with point ordering\n",
        which == 0 ? "arc" : "scattered", plain.relay_coefficient_growth(), plain.worker_coefficient_growth(0),
        ordered.relay_coefficient_growth(), ordered.worker_coefficient_growth(0), worst_plain, worst_ordered);
    INFO((which == 0 ? "arcs" : "scattered"));
    CHECK(worst_ordered <= 1e-9);
    CHECK(ordered.relay_coefficient_growth() < plain.relay_coefficient_growth());
  }
}

TEST_CASE(
    "polynomial HGC: worst decode error vs N — the paper's integer points grow past 1e-6 by N = 24 while the "
    "unit circle stays below 1e-9 up to N = 64",
    "[polynomial][random]") {
  std::mt19937_64 rng(59);
  std::printf("worst relative error of a full round (cyclic placement, r = N/2, s = 2, a = 0, random stragglers):\n");
  std::printf("   N   unit_circle   chebyshev     paper\n");
  for (Index n : {4, 8, 12, 16, 20, 24, 32, 48, 64}) {
    const Index r = n / 2, s = n >= 8 ? 2 : 1, m = r - s;
    double worst[3] = {0, 0, 0};
    const point_family families[3] = {point_family::unit_circle, point_family::chebyshev, point_family::paper};
    for (int f = 0; f < 3; ++f) {
      if (families[f] != point_family::unit_circle && n > 32) continue;
      robust_options loose;  // let the paper's points decode whatever they produce
      loose.max_amplification = 1e300;
      loose.max_relative_error = 1e300;
      const polynomial_placement placement{.workers = std::vector<Index>(static_cast<std::size_t>(n), n),
                                           .partitions = n,
                                           .relay_replication = r,
                                           .worker_replication = {r}};
      const polynomial_hgc<double> code({.dimension = 2 * m * m,
                                         .clusters = place_partitions(placement),
                                         .relay_stragglers = s,
                                         .worker_stragglers = {s},
                                         .points = families[f]},
                                        loose);
      const auto g = random_partials<double>(code.dimension(), n, rng);
      for (int t = 0; t < (n > 32 ? 2 : 4); ++t) {
        std::vector<std::vector<Index>> slow(static_cast<std::size_t>(n)), bad(static_cast<std::size_t>(n));
        for (Index c = 0; c < n; ++c) slow[static_cast<std::size_t>(c)] = random_subset(n, s, rng);
        const auto res = run_round(code, g, random_subset(n, s, rng), {}, slow, bad, attack::large, rng);
        worst[f] = std::max(worst[f], relative_error(res.gradient, g));
      }
    }
    if (n > 32)
      std::printf("  %2ld   %9.1e           -           -\n", static_cast<long>(n), worst[0]);
    else
      std::printf("  %2ld   %9.1e   %9.1e   %9.1e\n", static_cast<long>(n), worst[0], worst[1], worst[2]);
    CHECK(worst[0] <= 1e-9);
    if (n <= 8) CHECK(worst[2] <= 1e-9);
    if (n >= 24 && n <= 32) CHECK(worst[2] > 1e-6);
  }
}

// =============================================================================================
// Errors
// =============================================================================================

TEST_CASE("polynomial HGC: m1 < 1 or m2^(i) < 1 throws invalid_parameters naming the r that is too small",
          "[polynomial][errors]") {
  const polynomial_placement placement{
      .workers = {4, 4, 4, 4}, .partitions = 8, .relay_replication = 2, .worker_replication = {3}};
  const auto clusters = place_partitions(placement);
  CHECK_THROWS_MATCHES(
      polynomial_hgc<double>({.dimension = 8, .clusters = clusters, .relay_stragglers = 1, .relay_adversaries = 1}),
      invalid_parameters, what_contains("r1 = 2 (partition"));
  CHECK_THROWS_MATCHES(
      polynomial_hgc<double>({.dimension = 8, .clusters = clusters, .relay_stragglers = 1, .relay_adversaries = 1}),
      invalid_parameters, what_contains("r1 >= 4 or s1 + 2a1 <= 1 would fit"));
  CHECK_THROWS_MATCHES(
      polynomial_hgc<double>(
          {.dimension = 8, .clusters = clusters, .worker_stragglers = {0, 0, 1, 0}, .worker_adversaries = {0, 0, 1, 0}}),
      invalid_parameters, what_contains("cluster 2: m2 = r2 − 2a2 − s2 = 3 − 2·1 − 1 = 0 < 1: r2,2 = 3"));
  CHECK_THROWS_MATCHES(polynomial_hgc<double>({.dimension = 8, .clusters = clusters, .worker_stragglers = {1, 2}}),
                       invalid_parameters, what_contains("2 values of s2 for N1 = 4"));
  CHECK_THROWS_MATCHES(polynomial_hgc<double>({.dimension = 0, .clusters = clusters}), invalid_parameters,
                       what_contains("d = 0"));
  auto other_k = clusters;
  other_k[1] = assignment(9, {{0}, {1}, {2}, {3}});
  CHECK_THROWS_MATCHES(polynomial_hgc<double>({.dimension = 8, .clusters = other_k}), invalid_parameters, what_contains("K = 9"));
  CHECK_THROWS_AS(place_partitions({.workers = {3, 3}, .partitions = 4, .relay_replication = 3, .worker_replication = {1}}),
                  invalid_parameters);
  CHECK_THROWS_AS(place_partitions({.workers = {3, 3}, .partitions = 4, .relay_replication = 1, .worker_replication = {4}}),
                  invalid_parameters);
}

TEST_CASE("polynomial HGC: too many stragglers throws not_decodable naming the relay or server and the counts",
          "[polynomial][errors]") {
  const polynomial_placement placement{
      .workers = {6, 6, 6, 6, 6}, .partitions = 5, .relay_replication = 4, .worker_replication = {5}};
  const polynomial_hgc<double> code({.dimension = 40,
                                     .clusters = place_partitions(placement),
                                     .relay_stragglers = 1,
                                     .relay_adversaries = 1,
                                     .worker_stragglers = {1},
                                     .worker_adversaries = {1}});
  std::mt19937_64 rng(60);
  const auto g = random_partials<double>(40, 5, rng);
  CHECK_THROWS_MATCHES(code.simulate_round(g, {.straggling_workers = {{2, 0}, {2, 1}, {2, 2}, {2, 3}}}), not_decodable,
                       what_contains("relay 2 (workers): 2 of 6 messages received, 3 needed"));
  CHECK_THROWS_MATCHES(code.simulate_round(g, {.straggling_relays = {0, 1, 2, 3}}), not_decodable,
                       what_contains("server (relays): 1 of 5 messages received, 2 needed"));
  CHECK_FALSE(code.relay_decodable(2, gradcode::pattern::from_ids(6, std::vector<Index>{0, 1})));
  CHECK(code.relay_decodable(2, gradcode::pattern::from_ids(6, std::vector<Index>{0, 1, 2})));
}

TEST_CASE("polynomial HGC: adversaries beyond the correction budget throw corrupted_result naming the relay or server",
          "[polynomial][errors][adversary]") {
  // N2 = 6, K2 = 6 − 2 − 1 = 3: with all 6 responding, 1 correctable, 2 always detected (2 ≤ 6 − 3 − 1)
  const polynomial_placement placement{
      .workers = {6, 6, 6, 6, 6, 6}, .partitions = 6, .relay_replication = 5, .worker_replication = {5}};
  const polynomial_hgc<double> code({.dimension = 24,
                                     .clusters = place_partitions(placement),
                                     .relay_stragglers = 1,
                                     .relay_adversaries = 1,
                                     .worker_stragglers = {1},
                                     .worker_adversaries = {1}});
  std::mt19937_64 rng(61);
  const auto g = random_partials<double>(24, 6, rng);
  for (const auto& pair : std::vector<std::pair<Index, Index>>{{0, 1}, {2, 5}, {3, 4}}) {
    INFO("adversarial workers " << pair.first << ", " << pair.second << " of cluster 3");
    CHECK_THROWS_MATCHES(code.simulate_round(g, {.adversarial_workers = {{3, pair.first}, {3, pair.second}}}), corrupted_result,
                         what_contains("relay 3 (workers)"));
    CHECK_THROWS_MATCHES(code.simulate_round(g, {.adversarial_relays = {pair.first, pair.second}}), corrupted_result,
                         what_contains("server (relays)"));
  }
}

TEST_CASE("polynomial HGC: NaN in a partial gradient, wrong shapes and bad ids are invalid_input naming the node",
          "[polynomial][errors]") {
  const auto code = example_code();
  matrix<double> g = matrix<double>::Ones(2, 9);
  g(1, 3) = std::nan("");
  vector<double> out(1);
  CHECK_THROWS_MATCHES(code.encode({0, 1}, g, out), invalid_input, what_contains("worker (0,1)'s message is not finite"));
  CHECK_NOTHROW(code.encode({0, 0}, g, out));  // worker (1,1) does not hold partition 4
  CHECK_THROWS_MATCHES(code.encode({0, 0}, matrix<double>::Ones(2, 8), out), invalid_input, what_contains("need d × K = 2 × 9"));
  CHECK_THROWS_MATCHES(code.encode({3, 0}, matrix<double>::Ones(2, 9), out), invalid_input, what_contains("relay id 3"));
  CHECK_THROWS_MATCHES(code.encode({0, 3}, matrix<double>::Ones(2, 9), out), invalid_input,
                       what_contains("worker (0,3) does not exist"));
  vector<double> long_out(2);
  CHECK_THROWS_MATCHES(code.encode({0, 0}, matrix<double>::Ones(2, 9), long_out), invalid_input, what_contains("C2 = 1"));
  const std::vector<Index> ids{0, 0};
  CHECK_THROWS_MATCHES(code.relay_decode(0, ids, matrix<double>::Ones(1, 2)), invalid_input, what_contains("appears twice"));
}

TEST_CASE("polynomial HGC: a copied code decodes like the original", "[polynomial]") {
  const auto code = example_code();
  const polynomial_hgc<double> copy(code);
  std::mt19937_64 rng(62);
  const auto g = random_partials<double>(2, 9, rng);
  CHECK(relative_error(copy.simulate_round(g).gradient, g) < 1e-12);
}

// =============================================================================================
// Hostile inputs (issue 13)
// =============================================================================================

TEST_CASE(
    "polynomial HGC: one worker or one relay adding 1e160 to one element of its message is located and excluded — "
    "the gradient stays exact",
    "[polynomial][adversary]") {
  // Before: the locator's squared norms overflowed (NaN residual counted as consistent) and the
  // server returned a finite, absurd gradient.
  std::mt19937_64 rng(64);
  const polynomial_placement placement{
      .workers = {6, 6, 6, 6, 6, 6}, .partitions = 6, .relay_replication = 5, .worker_replication = {5}};
  const polynomial_hgc<double> code({.dimension = 24,
                                     .clusters = place_partitions(placement),
                                     .relay_stragglers = 1,
                                     .relay_adversaries = 1,
                                     .worker_stragglers = {1},
                                     .worker_adversaries = {1}});
  const auto g = random_partials<double>(24, 6, rng);
  double worst = 0;
  for (double size : {1e155, 1e160, 1e300}) {
    for (Index c = 0; c < 6; c += 5) {
      polynomial_round<double> f;
      f.adversarial_workers = {{c, 3}};
      f.corrupt_worker = [&](worker_id, Eigen::Ref<vector<double>> m) { m[0] += size; };
      INFO("worker (" << c << ",3) adds " << size << " to element 0");
      const auto r = code.simulate_round(g, f);
      CHECK(r.relays[static_cast<std::size_t>(c)].corrupted == std::vector<Index>{3});
      CHECK(relative_error(r.gradient, g) <= 1e-9);
      worst = std::max(worst, relative_error(r.gradient, g));
    }
    polynomial_round<double> f;
    f.adversarial_relays = {2};
    f.corrupt_relay = [&](Index, Eigen::Ref<vector<double>> m) { m[m.size() - 1] += size; };
    INFO("relay 2 adds " << size << " to its last element");
    const auto r = code.simulate_round(g, f);
    CHECK(r.server.corrupted == std::vector<Index>{2});
    CHECK(relative_error(r.gradient, g) <= 1e-9);
    worst = std::max(worst, relative_error(r.gradient, g));
  }
  // gradients of tiny normal magnitude: a 1e-3 relative corruption is still located
  const matrix<double> tiny = g * 1e-165;
  polynomial_round<double> f;
  f.adversarial_workers = {{1, 0}};
  f.corrupt_worker = [](worker_id, Eigen::Ref<vector<double>> m) { m *= 1.001; };
  const auto r = code.simulate_round(tiny, f);
  CHECK(r.relays[1].corrupted == std::vector<Index>{0});
  const vector<double> rescaled = r.gradient * 1e165;  // ‖·‖² of 1e-165 values would underflow
  CHECK(relative_error(rescaled, g) <= 1e-9);
  worst = std::max(worst, relative_error(rescaled, g));
  std::printf("polynomial HGC huge/tiny adversarial messages: all located, worst relative error %.2e\n", worst);
}

TEST_CASE(
    "polynomial HGC: parameters that would overflow (d = INT64_MAX, a1, a2 or s1 = 2^62) throw invalid_parameters "
    "naming the field and a value that fits",
    "[polynomial][errors]") {
  const polynomial_placement placement{
      .workers = {5, 5, 5, 5}, .partitions = 8, .relay_replication = 3, .worker_replication = {4}};
  const auto clusters = place_partitions(placement);
  const Index huge = Index{1} << 62, max = std::numeric_limits<Index>::max();
  CHECK_THROWS_MATCHES(polynomial_hgc<double>({.dimension = max, .clusters = clusters}), invalid_parameters,
                       what_contains("d = 9223372036854775807; need d <= 2^40"));
  CHECK_NOTHROW(polynomial_hgc<double>({.dimension = 16, .clusters = clusters}));
  CHECK_THROWS_MATCHES(polynomial_hgc<double>({.dimension = 16, .clusters = clusters, .relay_adversaries = huge}),
                       invalid_parameters, what_contains("a1 = 4611686018427387904 adversarial relays; s1 + 2a1 <= 2 would fit"));
  CHECK_THROWS_MATCHES(polynomial_hgc<double>({.dimension = 16, .clusters = clusters, .relay_stragglers = huge}),
                       invalid_parameters, what_contains("adversarial relays; s1 + 2a1 <= 2 would fit"));
  CHECK_THROWS_MATCHES(polynomial_hgc<double>({.dimension = 16, .clusters = clusters, .worker_adversaries = {0, huge, 0, 0}}),
                       invalid_parameters, what_contains("cluster 1: m2 = r2 − 2a2 − s2 = 4 − 2·4611686018427387904 − 0 < 1"));
  CHECK_THROWS_MATCHES(polynomial_hgc<double>({.dimension = 16, .clusters = clusters, .worker_stragglers = {max}}),
                       invalid_parameters, what_contains("adversarial workers; s2 + 2a2 <= 3 would fit"));
}

TEST_CASE(
    "polynomial HGC: robust_options out of range (corruption_tolerance inf, NaN or negative) throw invalid_parameters "
    "naming the field",
    "[polynomial][errors]") {
  // Before: τ = inf was accepted and an adversarial worker was never located.
  const polynomial_placement placement{
      .workers = {5, 5, 5, 5}, .partitions = 8, .relay_replication = 3, .worker_replication = {4}};
  const auto clusters = place_partitions(placement);
  for (double tau : {std::numeric_limits<double>::infinity(), std::nan(""), -1.0}) {
    robust_options o;
    o.corruption_tolerance = tau;
    INFO("corruption_tolerance = " << tau);
    CHECK_THROWS_MATCHES(polynomial_hgc<double>({.dimension = 16, .clusters = clusters, .worker_adversaries = {1}}, o),
                         invalid_parameters, what_contains("robust_options::corruption_tolerance"));
  }
  robust_options o;
  o.max_relative_error = -1;
  CHECK_THROWS_MATCHES(polynomial_hgc<float>({.dimension = 16, .clusters = clusters}, o), invalid_parameters,
                       what_contains("robust_options::max_relative_error"));
}

TEST_CASE(
    "polynomial HGC: place_partitions takes capacities of any finite magnitude (2^1021·c places like c) and rejects "
    "non-positive or non-finite ones, huge K or replication, and more than 1024 nodes per layer, before allocating",
    "[polynomial][errors]") {
  // Before: 1e308 capacities overflowed their sums (inf/inf shares, UB casts), K = INT64_MAX
  // overflowed r1·K, and nothing bounded N.
  const polynomial_placement unit{.workers = {3, 4, 5},
                                  .partitions = 9,
                                  .relay_replication = 2,
                                  .worker_replication = {2},
                                  .capacities = {{1, 2, 3}, {1, 1, 1, 1}, {5, 4, 3, 2, 1}}};
  auto scaled = unit;  // × 2^1021 (exact): up to 5.6e308·… — the sum of cluster 2's is 3.4e308, past the double range
  for (auto& c : scaled.capacities)
    for (auto& x : c) x = std::ldexp(x, 1021);
  const auto a = place_partitions(unit), b = place_partitions(scaled);
  for (std::size_t i = 0; i < a.size(); ++i)
    for (Index j = 0; j < a[i].nodes(); ++j) {
      INFO("cluster " << i << " worker " << j);
      CHECK(std::vector<Index>(a[i].partitions_of(j).begin(), a[i].partitions_of(j).end()) ==
            std::vector<Index>(b[i].partitions_of(j).begin(), b[i].partitions_of(j).end()));
    }
  auto wide = unit;
  wide.capacities = {{1e308, 1e-308, 1}, {}, {}};  // ratio 1e616: the slowest still gets a valid (zero) share
  CHECK_NOTHROW(place_partitions(wide));
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::infinity(), std::nan("")}) {
    auto p = unit;
    p.capacities[1][2] = bad;
    INFO("capacity " << bad);
    CHECK_THROWS_MATCHES(place_partitions(p), invalid_parameters, what_contains("worker 2 of cluster 1 has capacity"));
  }
  const Index max = std::numeric_limits<Index>::max();
  auto many = unit;
  many.partitions = max;
  CHECK_THROWS_MATCHES(place_partitions(many), invalid_parameters, what_contains("would fit"));
  many.partitions = (Index{1} << 24) + 1;  // fits N1·K ≤ 2^26, but K · 2 clusters · 2 workers copies do not
  CHECK_THROWS_MATCHES(place_partitions(many), invalid_parameters, what_contains("partition copies"));
  auto r1 = unit;
  r1.relay_replication = max;
  CHECK_THROWS_MATCHES(place_partitions(r1), invalid_parameters, what_contains("need 1 <= r1 <= N1 = 3"));
  auto r2 = unit;
  r2.worker_replication = {max};
  CHECK_THROWS_MATCHES(place_partitions(r2), invalid_parameters, what_contains("need 1 <= r2 <= N2 = 3"));
  CHECK_THROWS_MATCHES(
      place_partitions(
          {.workers = std::vector<Index>(1025, 2), .partitions = 4, .relay_replication = 1, .worker_replication = {1}}),
      invalid_parameters, what_contains("N1 = 1025 clusters; need N1 <= 1024"));
  CHECK_THROWS_MATCHES(
      place_partitions({.workers = {2, 2000}, .partitions = 4, .relay_replication = 1, .worker_replication = {1}}),
      invalid_parameters, what_contains("cluster 1 has N2 = 2000 workers; need N2 <= 1024"));
}

TEST_CASE("polynomial HGC: bad relay amplifications, straggler ids out of range and wrong partial shapes are typed errors",
          "[polynomial][errors]") {
  const polynomial_placement placement{
      .workers = {5, 5, 5, 5}, .partitions = 8, .relay_replication = 3, .worker_replication = {4}};
  const polynomial_hgc<double> code({.dimension = 16, .clusters = place_partitions(placement), .relay_stragglers = 1});
  std::mt19937_64 rng(65);
  const auto g = random_partials<double>(16, 8, rng);
  matrix<double> relay_msgs(code.relay_message_length(), 4);
  const std::vector<Index> all{0, 1, 2, 3, 4};
  for (Index n = 0; n < 4; ++n) {
    matrix<double> m(code.worker_message_length(n), 5);
    for (Index j = 0; j < 5; ++j) m.col(j) = code.encode({n, j}, g);
    relay_msgs.col(n) = code.relay_decode(n, all, m);
  }
  const std::vector<Index> relays{0, 1, 2, 3};
  vector<double> out(16);
  const std::vector<double> three{1, 1, 1};
  CHECK_THROWS_MATCHES(code.server_decode(relays, relay_msgs, out, three), invalid_input,
                       what_contains("3 input amplifications for 4 node ids"));
  const std::vector<double> inf_one{1, std::numeric_limits<double>::infinity(), 1, 1};
  CHECK_THROWS_MATCHES(code.server_decode(relays, relay_msgs, out, inf_one), invalid_input,
                       what_contains("input amplification of node 1"));
  const std::vector<double> ones{1, 1, 1, 1};
  const auto report = code.server_decode(relays, relay_msgs, out, ones);
  CHECK(relative_error(out, g) <= 1e-12);
  CHECK(report.estimated_error <= 1e-9);
  CHECK_THROWS_MATCHES(code.simulate_round(g, {.straggling_relays = {4}}), invalid_input,
                       what_contains("node id 4 is outside [0, 4)"));
  CHECK_THROWS_AS(code.simulate_round(g, {.straggling_workers = {{0, 5}}}), invalid_input);
  CHECK_THROWS_AS(code.simulate_round(matrix<double>::Ones(16, 7)), invalid_input);
}

TEMPLATE_TEST_CASE(
    "polynomial HGC: the paper's integer points at N = 12 and 13 (r = N − 3, 2 relay and 3 worker stragglers) "
    "are refused with not_decodable and the estimated error, never returned as a wrong gradient — the unit "
    "circle decodes every such round within the bound",
    "[polynomial][errors][random]", float, double) {
  // Before: relative error 8e2–5e4 returned silently (server: checked = 0, amplification 7.9e6).
  const auto seed = test_seed(66);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (Index n : {12, 13})
    for (auto family : {point_family::paper, point_family::unit_circle}) {
      if (std::is_same_v<TestType, float> && family == point_family::paper) continue;
      const Index r = n - 3, m1 = r - 2, m2 = r - 3;
      const polynomial_placement placement{.workers = std::vector<Index>(static_cast<std::size_t>(n), n),
                                           .partitions = n,
                                           .relay_replication = r,
                                           .worker_replication = {r}};
      const polynomial_hgc<TestType> code({.dimension = 2 * m1 * m2,
                                           .clusters = place_partitions(placement),
                                           .relay_stragglers = 2,
                                           .worker_stragglers = {3},
                                           .points = family});
      const auto g = random_partials<TestType>(code.dimension(), n, rng);
      int refused = 0, rounds = 0;
      double worst = 0, worst_estimate = 0;
      for (int t = 0; t < 8; ++t) {
        std::vector<std::vector<Index>> slow(static_cast<std::size_t>(n)), bad(static_cast<std::size_t>(n));
        for (Index c = 0; c < n; ++c) slow[static_cast<std::size_t>(c)] = random_subset(n, 3, rng);
        const auto slow_relays = random_subset(n, 2, rng);
        INFO(to_string(family) << " N = " << n << " round " << t);
        try {
          const auto res = run_round(code, g, slow_relays, {}, slow, bad, attack::large, rng);
          const double err = relative_error(res.gradient, g);
          CHECK(err <= error_bound<TestType>());
          CHECK(res.server.estimated_error <= error_bound<TestType>());
          worst = std::max(worst, err);
          worst_estimate = std::max(worst_estimate, res.server.estimated_error);
          ++rounds;
        } catch (const not_decodable& e) {
          CHECK_THAT(std::string(e.what()), Catch::Matchers::Contains("estimated relative error"));
          ++refused;
        }
      }
      std::printf(
          "polynomial HGC <%s> %s N = %ld (r = N − 3, s1 = 2, s2 = 3): %d of 8 rounds refused, worst accepted relative "
          "error %.2e (estimate %.2e)\n",
          scalar_name<TestType>(), to_string(family).c_str(), static_cast<long>(n), refused, worst, worst_estimate);
      if (family == point_family::paper)
        CHECK(refused > 0);
      else
        CHECK(refused == 0);
    }
}

TEST_CASE(
    "polynomial HGC: a refused relay or server decode (estimated error over the budget, also compounded from the "
    "relays' amplifications) leaves out untouched",
    "[polynomial][errors]") {
  std::mt19937_64 rng(67);
  // relay layer: the paper's points at N = 12, 9 of 12 workers
  {
    const polynomial_placement placement{
        .workers = std::vector<Index>(12, 12), .partitions = 12, .relay_replication = 9, .worker_replication = {9}};
    const polynomial_hgc<double> code({.dimension = 84,
                                       .clusters = place_partitions(placement),
                                       .relay_stragglers = 2,
                                       .worker_stragglers = {3},
                                       .points = point_family::paper});
    const auto g = random_partials<double>(84, 12, rng);
    const std::vector<Index> ids{0, 1, 2, 4, 5, 7, 8, 10, 11};
    matrix<double> m(code.worker_message_length(0), 9);
    for (Index j = 0; j < 9; ++j) m.col(j) = code.encode({0, ids[static_cast<std::size_t>(j)]}, g);
    vector<double> out = vector<double>::Constant(code.relay_message_length(), 7.0);
    CHECK_THROWS_MATCHES(code.relay_decode(0, ids, m, out), not_decodable, what_contains("relay 0 (workers)"));
    CHECK((out.array() == 7.0).all());
  }
  // server layer, unit circle: accepted alone, refused once the relays say they amplified by 1e8
  const polynomial_placement placement{
      .workers = {5, 5, 5, 5}, .partitions = 8, .relay_replication = 3, .worker_replication = {4}};
  const polynomial_hgc<double> code({.dimension = 16, .clusters = place_partitions(placement), .relay_stragglers = 1});
  const auto g = random_partials<double>(16, 8, rng);
  matrix<double> relay_msgs(code.relay_message_length(), 4);
  std::vector<double> relay_amplification;
  const std::vector<Index> all{0, 1, 2, 3, 4};
  for (Index n = 0; n < 4; ++n) {
    matrix<double> m(code.worker_message_length(n), 5);
    for (Index j = 0; j < 5; ++j) m.col(j) = code.encode({n, j}, g);
    robust_report rep;
    relay_msgs.col(n) = code.relay_decode(n, all, m, &rep);
    relay_amplification.push_back(rep.error_amplification);
  }
  const std::vector<Index> relays{0, 1, 2, 3};
  vector<double> out(16);
  const auto ok = code.server_decode(relays, relay_msgs, out, relay_amplification);
  CHECK(relative_error(out, g) <= 1e-12);
  CHECK(ok.estimated_error <= 1e-9);
  const std::vector<double> noisy(4, 1e8);
  out.setConstant(7.0);
  CHECK_THROWS_MATCHES(code.server_decode(relays, relay_msgs, out, noisy), not_decodable,
                       what_contains("the messages' own amplification up to 1e+08"));
  CHECK((out.array() == 7.0).all());
}

TEMPLATE_TEST_CASE(
    "polynomial HGC: the estimated error bounds the measured error of every relay and server decode (unit "
    "circle and Chebyshev points, N = 8 to 32, stragglers and excluded adversaries at random)",
    "[polynomial][random]", float, double) {
  // What the rounding check relies on: ε·A is an estimate, not a bound, so it is checked here
  // against measurements (refused decodes return nothing and are only counted); the worst
  // measured/estimated ratio is printed (≈ 0.5 at the time).
  const auto seed = test_seed(68);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  struct setting {
    Index n, r, s, a;
    point_family family;
  };
  const std::vector<setting> settings{{32, 12, 2, 2, point_family::unit_circle},
                                      {16, 8, 2, 0, point_family::unit_circle},
                                      {12, 9, 2, 0, point_family::unit_circle},
                                      {12, 9, 2, 0, point_family::chebyshev},
                                      {8, 4, 1, 0, point_family::chebyshev}};
  double worst_ratio = 0, worst_error = 0;
  int refused[2] = {0, 0};  // Chebyshev, unit circle
  for (const auto& st : settings) {
    const Index n = st.n, m1 = st.r - 2 * st.a - st.s;
    const polynomial_placement placement{.workers = std::vector<Index>(static_cast<std::size_t>(n), n),
                                         .partitions = 2 * n,
                                         .relay_replication = st.r,
                                         .worker_replication = {st.r}};
    const polynomial_hgc_params params{.dimension = 2 * m1 * m1 * 4,
                                       .clusters = place_partitions(placement),
                                       .relay_stragglers = st.s,
                                       .relay_adversaries = st.a,
                                       .worker_stragglers = {st.s},
                                       .worker_adversaries = {st.a},
                                       .points = st.family};
    const polynomial_hgc<TestType> code(params);
    robust_options trusting;  // the reference: honest messages in double, no location
    trusting.locate_corrupted = false;
    const polynomial_hgc<double> reference(params, trusting);
    const auto g = random_partials<TestType>(params.dimension, 2 * n, rng);
    const matrix<double> gd = g.template cast<double>();
    const vector<double> exact = gd.rowwise().sum();
    std::vector<Index> all(static_cast<std::size_t>(n));
    std::iota(all.begin(), all.end(), Index{0});
    std::vector<matrix<TestType>> worker_msgs(static_cast<std::size_t>(n));
    matrix<TestType> relay_msgs(code.relay_message_length(), n);
    std::vector<double> relay_amp(static_cast<std::size_t>(n));
    std::vector<vector<double>> relay_exact(static_cast<std::size_t>(n));
    for (Index c = 0; c < n; ++c) {
      auto& m = worker_msgs[static_cast<std::size_t>(c)];
      m.resize(code.worker_message_length(c), n);
      matrix<double> md(code.worker_message_length(c), n);
      for (Index j = 0; j < n; ++j) {
        m.col(j) = code.encode({c, j}, g);
        md.col(j) = reference.encode({c, j}, gd);
      }
      robust_report rep;
      relay_msgs.col(c) = code.relay_decode(c, all, m, &rep);
      relay_amp[static_cast<std::size_t>(c)] = rep.error_amplification;
      relay_exact[static_cast<std::size_t>(c)] = reference.relay_decode(c, all, md);
    }
    for (int t = 0; t < 40; ++t) {
      const Index c = static_cast<Index>(rng() % static_cast<std::uint64_t>(n));
      const auto missing = random_subset(n, st.s + st.a, rng);
      std::vector<Index> ids;
      for (Index j = 0; j < n; ++j)
        if (!std::binary_search(missing.begin(), missing.end(), j)) ids.push_back(j);
      matrix<TestType> received(code.worker_message_length(c), static_cast<Index>(ids.size()));
      for (std::size_t q = 0; q < ids.size(); ++q)
        received.col(static_cast<Index>(q)) = worker_msgs[static_cast<std::size_t>(c)].col(ids[q]);
      robust_report rep;
      vector<TestType> out(code.relay_message_length());
      try {
        rep = code.relay_decode(c, ids, received, out);
      } catch (const not_decodable&) {
        ++refused[st.family == point_family::unit_circle];
        continue;
      }
      const auto& ref = relay_exact[static_cast<std::size_t>(c)];
      const double relay_err = (out.template cast<double>() - ref).norm() / ref.norm();
      const auto rmissing = random_subset(n, st.s + st.a, rng);
      std::vector<Index> rids;
      std::vector<double> amps;
      for (Index j = 0; j < n; ++j)
        if (!std::binary_search(rmissing.begin(), rmissing.end(), j))
          rids.push_back(j), amps.push_back(relay_amp[static_cast<std::size_t>(j)]);
      matrix<TestType> rreceived(code.relay_message_length(), static_cast<Index>(rids.size()));
      for (std::size_t q = 0; q < rids.size(); ++q) rreceived.col(static_cast<Index>(q)) = relay_msgs.col(rids[q]);
      vector<TestType> grad(params.dimension);
      robust_report srep;
      try {
        srep = code.server_decode(rids, rreceived, grad, amps);
      } catch (const not_decodable&) {  // refused: nothing returned, nothing to bound
        ++refused[st.family == point_family::unit_circle];
        continue;
      }
      const double server_err = relative_error(grad, g);
      INFO(to_string(st.family) << " N = " << n << " r = " << st.r << " pattern " << t);
      CHECK(relay_err <= rep.estimated_error);
      CHECK(server_err <= srep.estimated_error);
      CHECK(server_err <= error_bound<TestType>());
      worst_ratio = std::max({worst_ratio, relay_err / rep.estimated_error, server_err / srep.estimated_error});
      worst_error = std::max(worst_error, server_err);
    }
  }
  std::printf(
      "polynomial HGC <%s>: measured error / estimated error ≤ %.2f over %zu settings × 40 relay and server decodes, "
      "worst relative error %.2e, refused %d (unit circle) and %d (Chebyshev)\n",
      scalar_name<TestType>(), worst_ratio, settings.size(), worst_error, refused[1], refused[0]);
  CHECK(refused[1] == 0);  // the default points decode every such pattern
}

TEST_CASE(
    "polynomial HGC: a worker message summing T terms rounds like √T — within ε·(1 + √T/2) of its size, and past "
    "10ε at T = 14400 (float) — so the node scales of the rounding check grow with √T",
    "[polynomial][random]") {
  std::mt19937_64 rng(69);
  for (Index n : {12, 32, 64}) {
    const Index r = n / 2, s = 2, m = r - s, d = 4 * m * m;
    const polynomial_placement placement{.workers = std::vector<Index>(static_cast<std::size_t>(n), n),
                                         .partitions = n,
                                         .relay_replication = r,
                                         .worker_replication = {r}};
    const polynomial_hgc_params params{
        .dimension = d, .clusters = place_partitions(placement), .relay_stragglers = s, .worker_stragglers = {s}};
    const polynomial_hgc<float> code(params);
    const polynomial_hgc<double> reference(params);
    const auto g = random_partials<float>(d, n, rng);
    const matrix<double> gd = g.cast<double>();
    double worst = 0, bound = 0;
    for (Index j = 0; j < n; ++j) {
      const auto terms = static_cast<double>(code.worker_partitions({0, j}).size() * static_cast<std::size_t>(m * m));
      const vector<double> y = code.encode({0, j}, g).cast<double>(), yd = reference.encode({0, j}, gd);
      const double eps = std::numeric_limits<float>::epsilon();
      worst = std::max(worst, (y - yd).norm() / yd.norm() / eps);
      bound = 1 + std::sqrt(terms) / 2;
      INFO("N = " << n << " worker " << j << " T = " << terms);
      CHECK((y - yd).norm() / yd.norm() <= eps * bound);
    }
    std::printf("polynomial HGC float N = %ld: worker message rounding ≤ %.1f ε (1 + √T/2 = %.1f)\n", static_cast<long>(n), worst,
                bound);
    if (n == 64) CHECK(worst > 10);  // a fixed per-message ε would underestimate by an order of magnitude
  }
}
