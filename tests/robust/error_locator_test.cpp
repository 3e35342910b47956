// SPDX-License-Identifier: MIT
// Locating corrupted evaluations (include/gradcode/robust/error_locator.hpp): every placement of
// up to ⌊(f−K)/2⌋ corruptions of every kind (random large, subtle, identical at all corrupted
// nodes, mixed scales) is located exactly; one corruption more than correctable is reported as
// corrupted_result whenever the code can tell (t ≤ f − K − budget); non-finite rows are
// erasures; honest rounding is not mistaken for corruption. Checked against a brute-force
// oracle (try every subset).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gradcode/core/errors.hpp>
#include <gradcode/robust/arnoldi_basis.hpp>
#include <gradcode/robust/error_locator.hpp>
#include <gradcode/robust/evaluation_points.hpp>

#include "test_support.hpp"

using gradcode::corrupted_result;
using gradcode::Index;
using gradcode::invalid_input;
using gradcode::locate_errors;
using gradcode::make_evaluation_points;
using gradcode::not_decodable;
using gradcode::point_family;
using complex = std::complex<double>;
using cmatrix = gradcode::matrix<complex>;
using gradcode::test::for_each_subset_up_to;
using gradcode::test::test_seed;
using gradcode::test::what_contains;

namespace {

/// P projections of honest evaluations of random polynomials of degree < K at `pts`.
cmatrix honest(const std::vector<complex>& pts, Index k, Index p, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  const auto f = static_cast<Index>(pts.size());
  cmatrix z(f, p);
  for (Index c = 0; c < p; ++c) {
    std::vector<complex> coef(static_cast<std::size_t>(k));
    for (auto& x : coef) x = complex(normal(rng), normal(rng));
    for (Index j = 0; j < f; ++j) {
      complex v = 0;
      for (Index t = k - 1; t >= 0; --t) v = v * pts[static_cast<std::size_t>(j)] + coef[static_cast<std::size_t>(t)];
      z(j, c) = v;
    }
  }
  return z;
}

enum class corruption { large, subtle, identical, mixed };
const char* name(corruption c) {
  switch (c) {
    case corruption::large:
      return "random large (×1e6)";
    case corruption::subtle:
      return "subtle (1e-6 relative)";
    case corruption::identical:
      return "identical vector at every corrupted node";
    case corruption::mixed:
      return "first ×1e12, others 1e-6 relative";
  }
  return "?";
}

void corrupt(cmatrix& z, const std::vector<Index>& rows, corruption kind, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  const double scale = z.cwiseAbs().maxCoeff();
  gradcode::vector<complex> same(z.cols());
  for (Index c = 0; c < z.cols(); ++c) same[c] = complex(normal(rng), normal(rng)) * 1e3 * scale;
  for (std::size_t t = 0; t < rows.size(); ++t) {
    const Index j = rows[t];
    for (Index c = 0; c < z.cols(); ++c) {
      const complex noise(normal(rng), normal(rng));
      switch (kind) {
        case corruption::large:
          z(j, c) = noise * 1e6 * scale;
          break;
        case corruption::subtle:
          z(j, c) += noise * 1e-6 * scale;
          break;
        case corruption::identical:
          z(j, c) = same[c];
          break;
        case corruption::mixed:
          z(j, c) += noise * (t == 0 ? 1e12 : 1e-6) * scale;
          break;
      }
    }
  }
}

/// Brute-force oracle: the smallest subset whose removal leaves a consistent set (parity residual ≤ tol).
std::vector<Index> oracle(const std::vector<complex>& pts, Index k, const cmatrix& z, Index budget, double tol) {
  const auto f = static_cast<Index>(pts.size());
  std::vector<Index> best;
  bool found = false;
  for (Index e = 0; e <= budget && !found; ++e)
    for_each_subset_up_to(f, e, [&](const std::vector<Index>& s) {
      if (found || static_cast<Index>(s.size()) != e) return;
      std::vector<complex> kp;
      std::vector<Index> rows;
      for (Index j = 0; j < f; ++j)
        if (std::find(s.begin(), s.end(), j) == s.end()) kp.push_back(pts[static_cast<std::size_t>(j)]), rows.push_back(j);
      const gradcode::arnoldi_basis b(kp, static_cast<Index>(kp.size()));
      cmatrix zk(static_cast<Index>(rows.size()), z.cols());
      for (std::size_t t = 0; t < rows.size(); ++t) zk.row(static_cast<Index>(t)) = z.row(rows[t]);
      bool ok = true;
      for (Index c = 0; c < z.cols(); ++c)
        if (static_cast<Index>(kp.size()) > k &&
            (b.values().rightCols(static_cast<Index>(kp.size()) - k).adjoint() * zk.col(c)).norm() > tol * zk.col(c).norm())
          ok = false;
      if (ok) best = s, found = true;
    });
  return best;
}

cmatrix honest_values(const std::vector<complex>& pts, Index k, Index p, std::mt19937_64& rng) { return honest(pts, k, p, rng); }

}  // namespace

TEST_CASE(
    "error locator: every placement of up to ⌊(f−K)/2⌋ corrupted rows of every kind is located exactly "
    "(f = 10, K = 4, unit circle and Chebyshev points)",
    "[locator][exhaustive][adversary]") {
  const auto seed = test_seed(21);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const Index f = 10, k = 4, budget = 3;
  Index cases = 0;
  for (auto family : {point_family::unit_circle, point_family::chebyshev})
    for (auto kind : {corruption::large, corruption::subtle, corruption::identical, corruption::mixed}) {
      const auto pts = make_evaluation_points(family, f, 1).nodes;
      for_each_subset_up_to(f, budget, [&](const std::vector<Index>& bad) {
        cmatrix z = honest(pts, k, 3, rng);
        corrupt(z, bad, kind, rng);
        INFO(to_string(family) << ", " << name(kind) << ", corrupted rows " << ::Catch::Detail::stringify(bad));
        const auto found = locate_errors(pts, {}, k, z, 1e-9);
        CHECK(found.rows == bad);
        CHECK(static_cast<Index>(found.kept.size()) == f - static_cast<Index>(bad.size()));
        ++cases;
      });
    }
  std::printf("error locator: %ld corruption placements located exactly\n", static_cast<long>(cases));
}

TEST_CASE("error locator: agrees with a brute-force search over all subsets (random sizes, f ≤ 12)",
          "[locator][random][adversary]") {
  const auto seed = test_seed(22);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 60; ++trial) {
    const Index f = 5 + static_cast<Index>(rng() % 8), k = 1 + static_cast<Index>(rng() % static_cast<std::uint64_t>(f - 2));
    const Index budget = (f - k) / 2;
    const auto pts = make_evaluation_points(point_family::unit_circle, f, 1).nodes;
    std::vector<Index> all(static_cast<std::size_t>(f));
    std::iota(all.begin(), all.end(), Index{0});
    std::shuffle(all.begin(), all.end(), rng);
    std::vector<Index> bad(all.begin(), all.begin() + static_cast<long>(rng() % static_cast<std::uint64_t>(budget + 1)));
    std::sort(bad.begin(), bad.end());
    cmatrix z = honest(pts, k, 2, rng);
    corrupt(z, bad, corruption::large, rng);
    INFO("f = " << f << " K = " << k << " corrupted " << ::Catch::Detail::stringify(bad));
    CHECK(locate_errors(pts, {}, k, z, 1e-9).rows == oracle(pts, k, z, budget, 1e-9));
  }
}

TEST_CASE(
    "error locator: t corrupted rows with budget < t ≤ f − K − budget throw corrupted_result (every placement, f = 10, "
    "K = 4)",
    "[locator][exhaustive][adversary][errors]") {
  const auto seed = test_seed(23);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const Index f = 10, k = 4;
  const auto pts = make_evaluation_points(point_family::unit_circle, f, 1).nodes;
  for (Index cap : {Index{1}, Index{2}}) {  // budget = cap: detection guaranteed for cap < t ≤ f − K − cap
    Index placements = 0;
    for_each_subset_up_to(f, f - k - cap, [&](const std::vector<Index>& bad) {
      if (static_cast<Index>(bad.size()) <= cap) return;
      cmatrix z = honest(pts, k, 3, rng);
      corrupt(z, bad, corruption::large, rng);
      INFO("cap " << cap << ", corrupted " << ::Catch::Detail::stringify(bad));
      CHECK_THROWS_AS(locate_errors(pts, {}, k, z, 1e-9, cap), corrupted_result);
      ++placements;
    });
    CHECK(placements > 0);
  }
}

TEST_CASE("error locator: non-finite rows are erasures (excluded, reported, and they cost one redundancy each)",
          "[locator][adversary]") {
  std::mt19937_64 rng(24);
  const Index f = 9, k = 4;
  const auto pts = make_evaluation_points(point_family::unit_circle, f, 1).nodes;
  cmatrix z = honest(pts, k, 3, rng);
  // budget after erasures: ⌊(7 − 4)/2⌋ = 1 more located row
  corrupt(z, {4}, corruption::large, rng);
  z(2, 0) = std::nan("");
  z(7, 1) = complex(INFINITY, 0);
  const std::vector<Index> ids{10, 11, 12, 13, 14, 15, 16, 17, 18};
  const auto found = locate_errors(pts, ids, k, z, 1e-9);
  CHECK(found.rows == std::vector<Index>{2, 4, 7});
  // with K = 8 only 7 finite rows remain: corrupted_result naming nodes 12 and 17
  CHECK_THROWS_MATCHES(locate_errors(pts, ids, 8, z, 1e-9), corrupted_result,
                       Catch::Matchers::Predicate<corrupted_result>(
                           [](const corrupted_result& e) {
                             return e.suspects() == std::vector<long long>{12, 17} &&
                                    std::string(e.what()).find("nodes 12, 17 are not finite") != std::string::npos;
                           },
                           "names nodes 12 and 17"));
}

TEST_CASE("error locator: honest data with 1e-13 relative noise is consistent — fewer than K rows is not_decodable",
          "[locator][errors]") {
  std::mt19937_64 rng(25);
  std::normal_distribution<double> normal;
  const Index f = 32, k = 20;
  const auto pts = make_evaluation_points(point_family::unit_circle, f, 1).nodes;
  cmatrix z = honest(pts, k, 3, rng);
  const double scale = z.cwiseAbs().maxCoeff();
  for (Index i = 0; i < z.size(); ++i) z.data()[i] += complex(normal(rng), normal(rng)) * 1e-13 * scale;
  const auto found = locate_errors(pts, {}, k, z, 1e-9);
  CHECK(found.rows.empty());
  CHECK(found.residual < 1e-11);
  CHECK_THROWS_AS(locate_errors(pts, {}, f + 1, z, 1e-9), not_decodable);
}

TEST_CASE(
    "error locator: a corrupted row of any finite magnitude (1e155 to 1e307) among honest rows of any magnitude "
    "(1e-300 to 1e300) is located — no norm overflows or underflows",
    "[locator][adversary]") {
  // Squared norms of 1e155 overflow and of 1e-165 underflow: unscaled, the parity residual was
  // NaN (counted as consistent, nobody excluded) or 0 (a corruption never located).
  std::mt19937_64 rng(26);
  std::normal_distribution<double> normal;
  const Index f = 12, k = 6;
  for (auto family : {point_family::unit_circle, point_family::chebyshev}) {
    const auto pts = make_evaluation_points(family, f, 1).nodes;
    for (double honest : {1e-300, 1e-165, 1.0, 1e150, 1e300})
      for (double rel : {1e-3, 1.0, 1e155, 1e300}) {
        const double bad_size = honest * rel;
        if (!(bad_size < 1e307)) continue;
        for (Index victim : {Index{0}, Index{5}, Index{11}}) {
          cmatrix z = honest_values(pts, k, 3, rng) * honest;
          for (Index c = 0; c < z.cols(); ++c) z(victim, c) += complex(normal(rng), normal(rng)) * bad_size;
          INFO(to_string(family) << ": honest rows ~" << honest << ", row " << victim << " corrupted by ~" << bad_size);
          REQUIRE(z.allFinite());
          const auto found = locate_errors(pts, {}, k, z, 1e-9);
          CHECK(found.rows == std::vector<Index>{victim});
          CHECK(std::isfinite(found.residual));
          CHECK(found.residual < 1e-11);
        }
        // honest rows alone, at this magnitude: consistent, nobody excluded
        const cmatrix clean = honest_values(pts, k, 3, rng) * honest;
        INFO(to_string(family) << ": honest rows ~" << honest);
        CHECK(locate_errors(pts, {}, k, clean, 1e-9).rows.empty());
      }
  }
}

TEST_CASE(
    "error locator: τ not in [0, 1) (inf, NaN, negative, 1), no projections, and repeated or non-finite points are "
    "invalid_input naming the field or the node",
    "[locator][errors]") {
  std::mt19937_64 rng(27);
  const Index f = 8, k = 4;
  const auto pts = make_evaluation_points(point_family::unit_circle, f, 1).nodes;
  cmatrix z = honest_values(pts, k, 3, rng);
  z.row(3) *= 100;  // one corrupted row: a τ that accepted it would report nobody
  for (double tau : {std::numeric_limits<double>::infinity(), std::nan(""), -1e-9, 1.0, 1e300}) {
    INFO("τ = " << tau);
    CHECK_THROWS_MATCHES(locate_errors(pts, {}, k, z, tau), invalid_input, what_contains("need 0 <= τ < 1"));
  }
  CHECK(locate_errors(pts, {}, k, z, 1e-9).rows == std::vector<Index>{3});  // what a valid τ finds
  CHECK_THROWS_MATCHES(locate_errors(pts, {}, k, cmatrix(f, 0), 1e-9), invalid_input, what_contains("P = 0"));
  auto repeated = pts;
  repeated[6] = repeated[2];
  const std::vector<Index> ids{20, 21, 22, 23, 24, 25, 26, 27};
  CHECK_THROWS_MATCHES(locate_errors(repeated, ids, k, z, 1e-9), invalid_input, what_contains("nodes 22 and 26 have the same"));
  auto nan_point = pts;
  nan_point[5] = complex(0, std::nan(""));
  CHECK_THROWS_MATCHES(locate_errors(nan_point, ids, k, z, 1e-9), invalid_input, what_contains("point of node 25 is not finite"));
}
