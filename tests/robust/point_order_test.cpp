// SPDX-License-Identifier: MIT
// Node → point ordering (include/gradcode/robust/point_order.hpp): a permutation; the identity
// for arc-shaped (cyclic) supports; a large cut of the coefficient growth for scattered supports;
// coefficient_growth equals the directly computed max |u(n,k,l)|.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gradcode/core/errors.hpp>
#include <gradcode/robust/evaluation_points.hpp>
#include <gradcode/robust/point_order.hpp>

using gradcode::coefficient_growth;
using gradcode::Index;
using gradcode::make_evaluation_points;
using gradcode::order_points;
using gradcode::point_family;
using complex = std::complex<double>;

namespace {

std::vector<std::vector<Index>> random_supports(Index n, Index count, Index size, std::mt19937_64& rng) {
  std::vector<Index> all(static_cast<std::size_t>(n));
  std::iota(all.begin(), all.end(), Index{0});
  std::vector<std::vector<Index>> out;
  for (Index k = 0; k < count; ++k) {
    std::shuffle(all.begin(), all.end(), rng);
    std::vector<Index> s(all.begin(), all.begin() + size);
    std::sort(s.begin(), s.end());
    out.push_back(s);
  }
  return out;
}

/// max |u(n,k,l)| by the paper's product formula.
double direct_growth(const gradcode::evaluation_points& p, const std::vector<std::vector<Index>>& supports,
                     const std::vector<Index>& order) {
  double worst = 0;
  const auto n = static_cast<Index>(p.nodes.size()), m = static_cast<Index>(p.targets.size());
  auto at = [&](Index node) { return p.nodes[static_cast<std::size_t>(order[static_cast<std::size_t>(node)])]; };
  for (const auto& s : supports)
    for (Index node : s)
      for (Index l = 0; l < m; ++l) {
        complex u = 1.0;
        for (Index i = 0; i < n; ++i)
          if (!std::binary_search(s.begin(), s.end(), i))
            u *= (at(node) - at(i)) / (p.targets[static_cast<std::size_t>(l)] - at(i));
        for (Index v = 0; v < m; ++v)
          if (v != l)
            u *= (at(node) - p.targets[static_cast<std::size_t>(v)]) /
                 (p.targets[static_cast<std::size_t>(l)] - p.targets[static_cast<std::size_t>(v)]);
        worst = std::max(worst, std::abs(u));
      }
  return worst;
}

}  // namespace

TEST_CASE("point order: coefficient_growth equals max |u(n,k,l)| of the product formula, for any order", "[point_order]") {
  std::mt19937_64 rng(41);
  const auto p = make_evaluation_points(point_family::unit_circle, 12, 3);
  const auto supports = random_supports(12, 20, 5, rng);
  std::vector<Index> order(12);
  std::iota(order.begin(), order.end(), Index{0});
  for (int trial = 0; trial < 3; ++trial) {
    const double direct = direct_growth(p, supports, order);
    CHECK(std::abs(coefficient_growth(p, supports, order) - direct) <= 1e-9 * direct);
    std::shuffle(order.begin(), order.end(), rng);
  }
}

TEST_CASE(
    "point order: arcs of consecutive nodes (cyclic-repetition supports) get a stride order with growth below 100, "
    "from up to 1e32",
    "[point_order]") {
  for (Index n : {16, 32, 64, 128})
    for (Index r : {n / 8, n / 4, n / 2, 3 * n / 4})
      for (Index m : {Index{1}, std::max<Index>(1, r / 2), std::max<Index>(1, r - 2)}) {
        if (r < 2) continue;
        std::vector<std::vector<Index>> arcs;
        for (Index k = 0; k < n; ++k) {
          std::vector<Index> s;
          for (Index t = 0; t < r; ++t) s.push_back((k + t) % n);
          std::sort(s.begin(), s.end());
          arcs.push_back(s);
        }
        const auto p = make_evaluation_points(point_family::unit_circle, n, m);
        const auto order = order_points(p, arcs);
        const double before = coefficient_growth(p, arcs), after = coefficient_growth(p, arcs, order);
        INFO("N = " << n << " r = " << r << " m = " << m << ": growth " << before << " -> " << after);
        CHECK(after < 100);
      }
}

TEST_CASE("point order: evenly spread supports (i·s mod N windows, what place_partitions generates) keep the identity",
          "[point_order]") {
  for (Index n : {16, 32, 64}) {
    std::vector<std::vector<Index>> spread;
    for (Index k = 0; k < n; ++k) {  // holders of item k when node i holds the window [r·i, r·i + r) mod n
      std::vector<Index> s;
      const Index r = n / 4 + 1;
      for (Index i = 0; i < n; ++i)
        if (((k - r * i) % n + n) % n < r) s.push_back(i);
      spread.push_back(s);
    }
    const auto p = make_evaluation_points(point_family::unit_circle, n, 3);
    const auto order = order_points(p, spread);
    INFO("N = " << n << " growth " << coefficient_growth(p, spread));
    CHECK(std::is_sorted(order.begin(), order.end()));
    CHECK(coefficient_growth(p, spread) < 100);
  }
}

TEST_CASE("point order: scattered supports at N = 32 (r = 12, 64 supports) get a permutation with ≥ 30× less growth",
          "[point_order][random]") {
  const std::uint64_t seed = Catch::rngSeed() != 0 ? Catch::rngSeed() : 42;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const auto p = make_evaluation_points(point_family::unit_circle, 32, 6);
  const auto supports = random_supports(32, 64, 12, rng);
  const auto t0 = std::chrono::steady_clock::now();
  const auto order = order_points(p, supports);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<Index> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (Index i = 0; i < 32; ++i) CHECK(sorted[static_cast<std::size_t>(i)] == i);
  const double before = coefficient_growth(p, supports), after = coefficient_growth(p, supports, order);
  std::printf("point order, N = 32, 64 random supports of 12: growth %.3g -> %.3g in %.3f s\n", before, after, secs);
  CHECK(after * 30 <= before);
}

TEST_CASE(
    "point order: supports naming a node outside [0, N) or twice, an order that is not a permutation and points "
    "that are not finite or distinct are invalid_input, never an out-of-bounds read",
    "[point_order][errors]") {
  // Before: node ids were used as table indices unchecked (reads outside the tables).
  using gradcode::invalid_input;
  auto names = [](const std::string& part) {
    return Catch::Matchers::Predicate<invalid_input>(
        [part](const invalid_input& e) { return std::string(e.what()).find(part) != std::string::npos; },
        "what() contains " + part);
  };
  const auto pts = make_evaluation_points(point_family::unit_circle, 8, 2);
  const std::vector<std::vector<Index>> good{{0, 1, 2}, {3, 5, 7}};
  CHECK_NOTHROW(coefficient_growth(pts, good));
  CHECK_THROWS_MATCHES(coefficient_growth(pts, {{0, 8}}), invalid_input, names("support 0 lists node 8, outside [0, 8)"));
  CHECK_THROWS_MATCHES(order_points(pts, {{0, 1}, {-1, 2}}), invalid_input, names("support 1 lists node -1"));
  CHECK_THROWS_MATCHES(order_points(pts, {{4, 2, 4}}), invalid_input, names("lists node 4 twice"));
  const std::vector<Index> short_order{0, 1, 2};
  CHECK_THROWS_MATCHES(coefficient_growth(pts, good, short_order), invalid_input, names("3 entries for N = 8"));
  const std::vector<Index> not_perm{0, 1, 2, 3, 4, 5, 6, 6};
  CHECK_THROWS_MATCHES(coefficient_growth(pts, good, not_perm), invalid_input, names("order[7] = 6"));
  const std::vector<Index> out_of_range{0, 1, 2, 3, 4, 5, 6, 99};
  CHECK_THROWS_MATCHES(coefficient_growth(pts, good, out_of_range), invalid_input, names("order[7] = 99"));
  auto clash = pts;
  clash.targets[1] = clash.nodes[4];
  CHECK_THROWS_MATCHES(order_points(clash, good), invalid_input, names("coincide"));
  auto nan = pts;
  nan.nodes[2] = complex(std::nan(""), 0);
  CHECK_THROWS_MATCHES(coefficient_growth(nan, good), invalid_input, names("not finite"));
  CHECK_THROWS_MATCHES(order_points(pts, good, std::nan("")), invalid_input, names("good_enough"));
}
