// SPDX-License-Identifier: MIT
// Cyclic-MDS code over the reals (Raviv et al. 2018): the generator polynomial, every straggler
// pattern up to s (exhaustive for n ≤ 12) and one beyond, the measured behaviour at n ≈ 50, and
// the parameter checks (n − s odd, K ≥ n, s < n).
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <numbers>
#include <string>
#include <vector>

#include <gradcode/codes/cyclic_mds.hpp>

#include "codes/code_properties.hpp"

using gradcode::cyclic_mds_code;
using gradcode::Index;
using gradcode::test::what_contains;

namespace {

struct mds_case {
  Index n, K, s;
  std::string str() const { return "n=" + std::to_string(n) + " K=" + std::to_string(K) + " s=" + std::to_string(s); }
  gradcode::cyclic_mds_params params() const { return {.nodes = n, .partitions = K, .tolerance = s}; }
};

// n − s odd throughout; s = 0, s = n − 1, K = n, K > n (and not a multiple of n), prime and
// composite n.
const std::vector<mds_case> mds_cases = {
    {1, 1, 0},   {5, 5, 0},   {5, 5, 2},   {6, 6, 1},   {6, 6, 3},    {6, 6, 5},   {7, 7, 2},
    {7, 7, 4},   {9, 9, 6},   {10, 10, 3}, {10, 23, 5}, {11, 11, 4},  {11, 11, 8}, {12, 12, 1},
    {12, 12, 3}, {12, 12, 5}, {12, 12, 7}, {12, 12, 9}, {12, 12, 11}, {12, 30, 5},
};

}  // namespace

TEST_CASE("cyclic MDS: the generator has the s roots ω^t centred on n/2, real coefficients summing to 1, palindromic",
          "[cyclic_mds][structure]") {
  for (Index n = 1; n <= 16; ++n)
    for (Index s = n % 2 == 0 ? 1 : 0; s < n; s += 2) {
      INFO("n = " << n << ", s = " << s);
      const auto c = gradcode::cyclic_mds_generator(n, s);
      REQUIRE(static_cast<Index>(c.size()) == s + 1);
      double sum = 0;
      for (double v : c) sum += v;
      CHECK(sum == Approx(1.0).epsilon(1e-12));
      for (Index j = 0; j <= s; ++j)
        CHECK(c[static_cast<std::size_t>(j)] == Approx(c[static_cast<std::size_t>(s - j)]).margin(1e-12));
      const auto eval = [&](Index t) {
        const auto x = std::polar(1.0, 2 * std::numbers::pi * static_cast<double>(t) / static_cast<double>(n));
        std::complex<double> v = 0, p = 1;
        for (double cj : c) v += cj * p, p *= x;
        return std::abs(v);
      };
      for (Index t = (n - s + 1) / 2; t <= (n + s - 1) / 2; ++t) CHECK(eval(t) <= 1e-12);  // roots
      for (Index t = 0; t < (n - s + 1) / 2; ++t) CHECK(eval(t) > 1e-6);                   // non-roots
    }
}

TEST_CASE(
    "cyclic MDS: known generators are (1,1,1)/3 for n = 3, s = 2 and (1,1)/2 for n = 4, s = 1 and (1,φ,1)/(2+φ) for n = 5, s = 2",
    "[cyclic_mds][kat]") {
  // g(x) = (x^n − 1)/(x − 1) when s = n − 1; g(x) = x + 1 for the single root −1 (n = 4, t = 2);
  // g(x) = x² − 2cos(4π/5)x + 1 = x² + φx + 1 for n = 5, T = {2, 3}.
  const double phi = (1 + std::sqrt(5.0)) / 2;
  const auto g32 = gradcode::cyclic_mds_generator(3, 2);
  for (double v : g32) CHECK(v == Approx(1.0 / 3).epsilon(1e-14));
  const auto g41 = gradcode::cyclic_mds_generator(4, 1);
  CHECK(g41 == std::vector<double>{0.5, 0.5});
  const auto g52 = gradcode::cyclic_mds_generator(5, 2);
  CHECK(g52[0] == Approx(1 / (2 + phi)).epsilon(1e-14));
  CHECK(g52[1] == Approx(phi / (2 + phi)).epsilon(1e-14));
  CHECK(g52[2] == Approx(1 / (2 + phi)).epsilon(1e-14));
  CHECK(gradcode::cyclic_mds_generator(9, 0) == std::vector<double>{1.0});
  // Node i sends x^i·g(x) mod (x^n − 1): row i of B is g's coefficients shifted cyclically by i.
  const cyclic_mds_code<double> code({.nodes = 5, .partitions = 5, .tolerance = 2});
  const gradcode::matrix<double> B(code.encoding_matrix());
  for (Index i = 0; i < 5; ++i)
    for (Index t = 0; t <= 2; ++t) CHECK(B(i, (i + t) % 5) == Approx(g52[static_cast<std::size_t>(t)]).epsilon(1e-14));
}

TEMPLATE_TEST_CASE("cyclic MDS: every pattern of at most s stragglers decodes the exact sum (n ≤ 12)", "[cyclic_mds][exhaustive]",
                   float, double) {
  for (const auto& c : mds_cases) {
    const cyclic_mds_code<TestType> code(c.params());
    gradcode::test::check_every_tolerated_pattern<TestType>(code, "cyclic_mds", c.str());
  }
}

TEST_CASE("cyclic MDS: verify() finds the span condition on all C(n, n − s) responder sets (n ≤ 12)",
          "[cyclic_mds][exhaustive]") {
  for (const auto& c : mds_cases) {
    INFO(c.str());
    const cyclic_mds_code<double> code(c.params());
    const auto report = code.verify();
    CHECK(report.satisfied);
    CHECK(report.exhaustive);
    CHECK(static_cast<double>(report.subsets_checked) == gradcode::test::binomial(c.n, c.n - c.s));
  }
}

TEST_CASE("cyclic MDS: with s + 1 stragglers it never returns a wrong sum, and refuses every pattern for prime n",
          "[cyclic_mds][exhaustive][errors]") {
  for (const auto& c : mds_cases) {
    const cyclic_mds_code<double> code(c.params());
    const auto st = gradcode::test::check_one_more_straggler<double>(code, "cyclic_mds", c.str());
    INFO(c.str());
    // For prime n every minor of the DFT matrix is nonzero (Chebotarev), so n − s − 1 rows never
    // reach 1; composite n may admit a few decodable patterns, which must then be exact.
    const bool prime = c.n == 2 || c.n == 3 || c.n == 5 || c.n == 7 || c.n == 11;
    if (prime) CHECK(st.refused == st.patterns);
    CHECK(st.uncovered == (c.s + 1 == c.n ? 1 : c.n));
  }
}

TEST_CASE("cyclic MDS: at n ≈ 50 with s ≤ 4, 1000 random patterns of s stragglers decode the exact sum", "[cyclic_mds][random]") {
  // Measured (this test, seed 0x9c0de): worst relative error 4e-13 at n = 49, s = 4; the worst
  // amplification Σ|a_j|‖b_j‖₁ over patterns grows from 50 (n = 50, s = 1) to ~1e4 (s = 3).
  const std::vector<mds_case> large = {{50, 50, 1}, {51, 51, 2}, {50, 100, 3}, {49, 49, 4}};
  for (const auto& c : large) {
    const cyclic_mds_code<double> code(c.params());
    gradcode::test::check_random_patterns<double>(code, "cyclic_mds", c.str(), 1000, true);
  }
}

TEST_CASE("cyclic MDS: at n ≈ 50 with larger s, random patterns decode exactly or throw not_decodable (never a wrong sum)",
          "[cyclic_mds][random]") {
  // The DFT minors of consecutive-root codes grow ill-conditioned with s (worst amplification
  // ~1e6 at n = 50, s = 9; ~1e7 at s = 21); the decoder must refuse rather than exceed 1e-9.
  const std::vector<mds_case> large = {{50, 50, 9}, {51, 51, 20}};
  for (const auto& c : large) {
    const cyclic_mds_code<double> code(c.params());
    const auto st = gradcode::test::check_random_patterns<double>(code, "cyclic_mds", c.str(), 1000, false);
    INFO(c.str() << ": " << st.decoded << " decoded, " << st.refused << " refused");
    CHECK(st.decoded + st.refused == st.patterns);
  }
}

TEST_CASE("cyclic MDS: invalid parameters throw invalid_parameters naming the constraint", "[cyclic_mds][errors]") {
  using code = cyclic_mds_code<double>;
  CHECK_THROWS_MATCHES(code({.nodes = 6, .partitions = 6, .tolerance = 2}), gradcode::invalid_parameters,
                       what_contains("needs n − s odd"));
  CHECK_THROWS_MATCHES(code({.nodes = 6, .partitions = 6, .tolerance = 2}), gradcode::invalid_parameters,
                       what_contains("n = 6, s = 2: use s = 1, or cyclic_repetition_code"));
  CHECK_THROWS_MATCHES(code({.nodes = 7, .partitions = 7, .tolerance = 1}), gradcode::invalid_parameters,
                       what_contains("n = 7, s = 1: use s = 0"));
  CHECK_THROWS_MATCHES(code({.nodes = 8, .partitions = 8, .tolerance = 0}), gradcode::invalid_parameters,
                       what_contains("n = 8, s = 0: use s = 1"));
  CHECK_THROWS_MATCHES(code({.nodes = 7, .partitions = 6, .tolerance = 2}), gradcode::invalid_parameters,
                       what_contains("K = 6 partitions for n = 7 nodes; the cyclic support needs K >= n"));
  CHECK_THROWS_MATCHES(code({.nodes = 7, .partitions = 7, .tolerance = 7}), gradcode::invalid_parameters,
                       what_contains("s = 7 must be in [0, n = 7); s <= 6 would fit"));
  CHECK_THROWS_MATCHES(code({.nodes = 0, .partitions = 1, .tolerance = 0}), gradcode::invalid_parameters,
                       what_contains("need n >= 1"));
  CHECK_THROWS_WITH(code({.nodes = 6, .partitions = 6, .tolerance = 2}),
                    Catch::Matchers::StartsWith("gradcode::invalid_parameters: cyclic MDS"));
}

// Regression (issue 13): cyclic_mds_generator is public but took (n, s) unchecked: n − s even
// gave a complex root set whose real parts were returned as if they were the code (summing to
// ~0 before the normalisation divided by it), n = 0 divided by zero, and a huge s looped s² times.
TEST_CASE("cyclic MDS: the public generator rejects (n, s) without a real cyclic MDS code", "[cyclic_mds][errors]") {
  CHECK_THROWS_MATCHES(gradcode::cyclic_mds_generator(6, 2), gradcode::invalid_parameters, what_contains("n − s odd"));
  CHECK_THROWS_MATCHES(gradcode::cyclic_mds_generator(7, 7), gradcode::invalid_parameters,
                       what_contains("s = 7 must be in [0, n = 7)"));
  CHECK_THROWS_AS(gradcode::cyclic_mds_generator(7, -2), gradcode::invalid_parameters);
  CHECK_THROWS_AS(gradcode::cyclic_mds_generator(0, 0), gradcode::invalid_parameters);
  CHECK_THROWS_MATCHES(gradcode::cyclic_mds_generator(Index{1} << 40, (Index{1} << 40) - 3), gradcode::invalid_parameters,
                       what_contains("n = 1099511627776 must be in [1, 2^13]"));
  CHECK(gradcode::cyclic_mds_generator(7, 2).size() == 3);
}
