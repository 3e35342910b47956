// SPDX-License-Identifier: MIT
// place_samples: the data distribution stage of li-skoglund §III / §V — random placement
// (exact d_i, reproducible, balanced in expectation) and exact pair-wise balanced designs
// (eq. (39) for every pair), plus the constraints that make a design impossible.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gradcode/quantize/placement.hpp>

#include "test_support.hpp"

using gradcode::assignment;
using gradcode::check_pairwise_balance;
using gradcode::Index;
using gradcode::place_samples;
using gradcode::placement_kind;

namespace {
using gradcode::test::what_contains;

/// Exception matcher: what() contains `part` (Catch2 2.x string matchers do not apply to exceptions).
void check_replication(const assignment& a, const std::vector<Index>& d) {
  REQUIRE(a.partitions() == static_cast<Index>(d.size()));
  for (Index i = 0; i < a.partitions(); ++i) {
    const auto holders = a.holders_of(i);
    INFO("sample " << i);
    CHECK(static_cast<Index>(holders.size()) == d[static_cast<std::size_t>(i)]);
    CHECK(std::set<Index>(holders.begin(), holders.end()).size() == holders.size());
  }
}

}  // namespace

TEST_CASE("placement: random puts sample i on exactly d_i distinct workers, heterogeneous d_i included (Fig. 3 setting 3)",
          "[placement][random]") {
  std::vector<Index> d(1000, 5);
  for (std::size_t i = 500; i < 1000; ++i) d[i] = 25;  // d_i = 5 for i ≤ m/2, 25 above: D = 15
  const auto a = place_samples({.workers = 100, .samples = 1000, .replications = d, .seed = 1});
  CHECK(a.nodes() == 100);
  check_replication(a, d);
  const auto homogeneous = place_samples({.workers = 100, .samples = 1000, .replication = 20, .seed = 1});
  check_replication(homogeneous, std::vector<Index>(1000, 20));
  const auto once = place_samples({.workers = 10, .samples = 100, .replication = 1, .seed = 3});
  check_replication(once, std::vector<Index>(100, 1));
  const auto everywhere = place_samples({.workers = 10, .samples = 4, .replication = 10});
  CHECK(check_pairwise_balance(everywhere).exact());
}

TEST_CASE("placement: random is reproducible from the seed and changes with it", "[placement][random]") {
  const auto a = place_samples({.workers = 50, .samples = 200, .replication = 7, .seed = 11});
  const auto b = place_samples({.workers = 50, .samples = 200, .replication = 7, .seed = 11});
  const auto c = place_samples({.workers = 50, .samples = 200, .replication = 7, .seed = 12});
  bool same = true, differs = false;
  for (Index j = 0; j < 50; ++j) {
    const auto sa = a.partitions_of(j), sb = b.partitions_of(j), sc = c.partitions_of(j);
    same = same && std::vector<Index>(sa.begin(), sa.end()) == std::vector<Index>(sb.begin(), sb.end());
    differs = differs || std::vector<Index>(sa.begin(), sa.end()) != std::vector<Index>(sc.begin(), sc.end());
  }
  CHECK(same);
  CHECK(differs);
}

TEST_CASE("placement: random shares d_i d_i'/n workers per pair in expectation (hypergeometric mean within 4 sigma, 20000 seeds)",
          "[placement][random][statistical]") {
  const Index n = 10, d0 = 2, d1 = 5;
  constexpr int N = 20000;
  double sum = 0;
  for (int seed = 0; seed < N; ++seed) {
    const auto a =
        place_samples({.workers = n, .samples = 2, .replications = {d0, d1}, .seed = static_cast<std::uint64_t>(seed)});
    const auto h0 = a.holders_of(0), h1 = a.holders_of(1);
    for (Index x : h0)
      for (Index y : h1) sum += x == y;
  }
  const double expect = static_cast<double>(d0 * d1) / n;  // eq. (39): 1 worker
  const double var = d1 * (static_cast<double>(d0) / n) * (1 - static_cast<double>(d0) / n) * (n - d1) / (n - 1.0);
  INFO("mean shared " << sum / N << ", expected " << expect);
  CHECK(std::abs(sum / N - expect) <= 4 * std::sqrt(var / N));
}

TEST_CASE(
    "placement: pairwise_balanced shares exactly d_i d_i'/n workers for every pair (eq. (39)), homogeneous and heterogeneous",
    "[placement][pairwise][kat]") {
  struct design {
    Index n;
    std::vector<Index> d;
  };
  std::vector<design> designs;
  designs.push_back({16, std::vector<Index>(15, 8)});  // Hadamard: all n − 1 samples at d = n/2
  designs.push_back({64, std::vector<Index>(63, 32)});
  designs.push_back({16, std::vector<Index>(5, 4)});  // a full spread of 2-dim subspaces of F₂⁴
  std::vector<Index> mixed(3, 4);
  mixed.insert(mixed.end(), 6, 8);
  mixed.insert(mixed.end(), 2, 16);  // d_i = n: on every worker
  designs.push_back({16, mixed});
  std::vector<Index> mixed32(4, 8);
  mixed32.insert(mixed32.end(), 19, 16);
  designs.push_back({32, mixed32});
  designs.push_back({1, {1, 1, 1}});
  for (const auto& [n, d] : designs) {
    INFO("n = " << n << ", m = " << d.size());
    const auto a = place_samples(
        {.workers = n, .samples = static_cast<Index>(d.size()), .replications = d, .kind = placement_kind::pairwise_balanced});
    check_replication(a, d);
    const auto r = check_pairwise_balance(a);
    CHECK(r.exact());
    CHECK(r.pairs == static_cast<Index>(d.size() * (d.size() - 1) / 2));
    // Σ_j |S_j|² is fixed by eq. (39): Σ_i d_i + Σ_{i≠i'} d_i d_i'/n.
    double expect = 0, got = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
      expect += static_cast<double>(d[i]);
      for (std::size_t t = 0; t < d.size(); ++t)
        if (t != i) expect += static_cast<double>(d[i] * d[t]) / static_cast<double>(n);
    }
    for (Index j = 0; j < n; ++j) got += static_cast<double>(a.load(j) * a.load(j));
    CHECK(got == Approx(expect));
  }
}

TEST_CASE("placement: pairwise_balanced keeps the largest load at ⌈Σd_i/n⌉ for the Hadamard designs", "[placement][pairwise]") {
  for (Index n : {16, 64, 256}) {
    const auto a =
        place_samples({.workers = n, .samples = n - 1, .replication = n / 2, .kind = placement_kind::pairwise_balanced});
    INFO("n = " << n);
    CHECK(check_pairwise_balance(a).max_load == n / 2);
  }
}

TEST_CASE("placement: pairwise_balanced refuses impossible designs with invalid_parameters naming the constraint",
          "[placement][pairwise][errors]") {
  using gradcode::invalid_parameters;
  // §V-A's setting: m = 1000 samples cannot be pair-wise balanced on n = 100 workers.
  CHECK_THROWS_MATCHES(
      place_samples({.workers = 128, .samples = 1000, .replication = 64, .kind = placement_kind::pairwise_balanced}),
      invalid_parameters, what_contains("at most n − 1 = 127") && what_contains("placement_kind::random"));
  CHECK_THROWS_MATCHES(place_samples({.workers = 12, .samples = 5, .replication = 6, .kind = placement_kind::pairwise_balanced}),
                       invalid_parameters, what_contains("n = 2^k"));
  CHECK_THROWS_MATCHES(place_samples({.workers = 16, .samples = 5, .replication = 6, .kind = placement_kind::pairwise_balanced}),
                       invalid_parameters, what_contains("d_i = n/2^c"));
  CHECK_THROWS_MATCHES(place_samples({.workers = 16, .samples = 6, .replication = 4, .kind = placement_kind::pairwise_balanced}),
                       invalid_parameters, what_contains("Σ(n/d_i − 1) = 18"));
}

TEST_CASE("placement: invalid n, m or d_i throw invalid_parameters", "[placement][errors]") {
  using gradcode::invalid_parameters;
  CHECK_THROWS_MATCHES(place_samples({.workers = 0, .samples = 5, .replication = 1}), invalid_parameters, what_contains("n = 0"));
  CHECK_THROWS_MATCHES(place_samples({.workers = 4, .samples = 0, .replication = 1}), invalid_parameters, what_contains("m = 0"));
  CHECK_THROWS_MATCHES(place_samples({.workers = 4, .samples = 5, .replication = 5}), invalid_parameters, what_contains("d = 5"));
  CHECK_THROWS_MATCHES(place_samples({.workers = 4, .samples = 2, .replications = {1, 2, 3}}), invalid_parameters,
                       what_contains("3 replications"));
  CHECK_THROWS_MATCHES(place_samples({.workers = 4, .samples = 2, .replications = {1, 0}}), invalid_parameters,
                       what_contains("sample 1 has d_i = 0"));
}

TEST_CASE("placement: check_pairwise_balance reports the deviation of a random placement and its loads", "[placement][random]") {
  const auto a = place_samples({.workers = 100, .samples = 1000, .replication = 20, .seed = 2});
  const auto r = check_pairwise_balance(a);
  CHECK(r.pairs == 1000 * 999 / 2);
  CHECK_FALSE(r.exact());
  CHECK(r.mean_abs_deviation > 0.5);  // pair counts scatter around d²/n = 4
  CHECK(r.mean_abs_deviation < 3);
  CHECK(r.min_load <= 200);
  CHECK(r.max_load >= 200);
}

TEST_CASE("placement: n, m or Σ d_i beyond the library limits throw invalid_parameters before anything is allocated",
          "[placement][errors][extreme]") {
  using gradcode::invalid_parameters;
  // m = 1e9 allocated 8 GB of d_i (and a holder list per sample) before failing or finishing.
  CHECK_THROWS_MATCHES(place_samples({.workers = 4, .samples = 1'000'000'000, .replication = 1}), invalid_parameters,
                       what_contains("exceeds limits::max_partitions"));
  CHECK_THROWS_MATCHES(place_samples({.workers = Index{1} << 40, .samples = 4, .replication = 1}), invalid_parameters,
                       what_contains("exceeds limits::max_nodes"));
  CHECK_THROWS_MATCHES(place_samples({.workers = 256, .samples = Index{1} << 20, .replication = 128}), invalid_parameters,
                       what_contains("Σ d_i = 1048576·128 exceed limits::max_support_entries"));
  // n = 2^16 workers, 8192 samples on n/8 each: Σ(n/d_i − 1) fits, but the construction would
  // take 2^29·16 steps (about a minute).
  CHECK_THROWS_MATCHES(
      place_samples({.workers = Index{1} << 16, .samples = 8192, .replication = 8192, .kind = placement_kind::pairwise_balanced}),
      invalid_parameters, what_contains("steps, more than") && what_contains("placement_kind::random"));
}

TEST_CASE("placement: random costs O(Σ d_i), not O(m·n), and places exactly as the per-sample Fisher–Yates from 0..n−1",
          "[placement][random][oracle]") {
  // The oracle: reset the permutation to 0..n−1 for every sample (the construction before).
  auto oracle = [](Index n, const std::vector<Index>& d, std::uint64_t seed) {
    std::vector<std::vector<Index>> holdings(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < d.size(); ++i) {
      const auto rng = gradcode::counter_rng::stream(seed, gradcode::rng_domain::placement, i);
      std::vector<Index> perm(static_cast<std::size_t>(n));
      for (Index j = 0; j < n; ++j) perm[static_cast<std::size_t>(j)] = j;
      for (Index t = 0; t < d[i]; ++t) {
        const auto pick = t + static_cast<Index>(rng.below(static_cast<std::uint64_t>(t), static_cast<std::uint64_t>(n - t)));
        std::swap(perm[static_cast<std::size_t>(t)], perm[static_cast<std::size_t>(pick)]);
        holdings[static_cast<std::size_t>(perm[static_cast<std::size_t>(t)])].push_back(static_cast<Index>(i));
      }
    }
    return holdings;
  };
  const std::vector<Index> d = {3, 1, 7, 7, 2, 5, 1, 4, 6, 3, 7, 2};
  const auto a = place_samples({.workers = 7, .samples = 12, .replications = d, .seed = 13});
  const auto expect = oracle(7, d, 13);
  for (Index j = 0; j < 7; ++j) {
    const auto got = a.partitions_of(j);
    CHECK(std::vector<Index>(got.begin(), got.end()) == expect[static_cast<std::size_t>(j)]);
  }
  // n = 2^20 workers and m = 2^14 samples: 2^34 resets before; now Σ d_i = 2^14 steps.
  const auto wide = place_samples({.workers = Index{1} << 20, .samples = Index{1} << 14, .replication = 1, .seed = 3});
  Index total = 0;
  for (Index i = 0; i < wide.partitions(); ++i) total += static_cast<Index>(wide.holders_of(i).size());
  CHECK(total == Index{1} << 14);
}

TEST_CASE(
    "placement: check_pairwise_balance refuses more than 2^32 word comparisons with invalid_input instead of running for minutes",
    "[placement][errors][extreme]") {
  const Index m = Index{1} << 17;  // 2^33 pairs on one word each
  std::vector<std::vector<Index>> holdings(64);
  for (Index i = 0; i < m; ++i) holdings[static_cast<std::size_t>(i % 64)].push_back(i);
  const assignment a(m, std::move(holdings));
  CHECK_THROWS_MATCHES(check_pairwise_balance(a), gradcode::invalid_input, what_contains("check a subset of the samples"));
}
