// SPDX-License-Identifier: MIT
// Fractional repetition code (Tandon et al. 2017 §III-A): structure, every straggler pattern up to
// s and one beyond, and the parameter checks.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <gradcode/codes/fractional_repetition.hpp>

#include "codes/code_properties.hpp"

using gradcode::fractional_repetition_code;
using gradcode::Index;
using gradcode::test::what_contains;

namespace {

struct fr_case {
  Index n, K, s;
  std::string str() const {
    return "n=" + std::to_string(n) + " K=" + std::to_string(K) + " s=" + std::to_string(s);
  }
  gradcode::fractional_repetition_params params() const { return {.nodes = n, .partitions = K, .tolerance = s}; }
};

// s = 0, s = n − 1, K = n, K > n, K < n (K ≥ n/(s+1)), K not a multiple of the group count.
const std::vector<fr_case> fr_cases = {
    {1, 1, 0},   {4, 4, 0},   {6, 6, 1},   {6, 6, 2},   {6, 6, 5},    {8, 20, 3},  {9, 9, 2},    {10, 10, 4},
    {12, 12, 1}, {12, 12, 2}, {12, 12, 3}, {12, 12, 5}, {12, 12, 11}, {12, 30, 3}, {12, 4, 2}, {12, 7, 2},
};

}  // namespace

TEST_CASE("fractional repetition: n/(s+1) groups, each node of a group sends the plain sum of the group's block",
          "[fractional_repetition][structure]") {
  for (const auto& c : fr_cases) {
    INFO(c.str());
    const fractional_repetition_code<double> code(c.params());
    const Index groups = c.n / (c.s + 1);
    CHECK(code.groups() == groups);
    CHECK(code.tolerance() == c.s);
    CHECK(code.responders_needed() == c.n - c.s);
    const auto B = gradcode::matrix<double>(code.encoding_matrix());
    for (Index i = 0; i < c.n; ++i) {
      const Index g = i / (c.s + 1);
      const Index lo = g * c.K / groups, hi = (g + 1) * c.K / groups;
      CHECK(code.load(i) == hi - lo);
      CHECK((code.load(i) == c.K / groups || code.load(i) == c.K / groups + 1));
      for (Index k = 0; k < c.K; ++k) CHECK(B(i, k) == ((k >= lo && k < hi) ? 1.0 : 0.0));
    }
    for (Index k = 0; k < c.K; ++k) CHECK(static_cast<Index>(code.support().holders_of(k).size()) == c.s + 1);
  }
}

TEMPLATE_TEST_CASE("fractional repetition: every pattern of at most s stragglers decodes the exact sum (n ≤ 12)",
                   "[fractional_repetition][exhaustive]", float, double) {
  for (const auto& c : fr_cases) {
    const fractional_repetition_code<TestType> code(c.params());
    gradcode::test::check_every_tolerated_pattern<TestType>(code, "fractional_repetition", c.str());
  }
}

TEST_CASE("fractional repetition: with s + 1 stragglers it throws exactly when a whole group is lost, else decodes",
          "[fractional_repetition][exhaustive][errors]") {
  for (const auto& c : fr_cases) {
    const fractional_repetition_code<double> code(c.params());
    const auto st = gradcode::test::check_one_more_straggler<double>(code, "fractional_repetition", c.str());
    const Index groups = c.n / (c.s + 1);
    INFO(c.str());
    CHECK(st.uncovered == groups);  // the s + 1 stragglers are one whole group
    CHECK(st.refused == groups);
    CHECK(st.decoded == st.patterns - groups);
  }
}

TEST_CASE("fractional repetition: invalid parameters throw invalid_parameters naming the constraint",
          "[fractional_repetition][errors]") {
  using code = fractional_repetition_code<double>;
  CHECK_THROWS_MATCHES(code({.nodes = 4, .partitions = 4, .tolerance = 4}), gradcode::invalid_parameters,
                       what_contains("s = 4 must be in [0, n = 4)"));
  CHECK_THROWS_MATCHES(code({.nodes = 4, .partitions = 4, .tolerance = 9}), gradcode::invalid_parameters,
                       what_contains("must be in [0, n = 4)"));
  CHECK_THROWS_MATCHES(code({.nodes = 4, .partitions = 4, .tolerance = -1}), gradcode::invalid_parameters,
                       what_contains("s = -1 must be in [0, n = 4)"));
  CHECK_THROWS_MATCHES(code({.nodes = 6, .partitions = 6, .tolerance = 3}), gradcode::invalid_parameters,
                       what_contains("needs (s + 1) | n; n = 6, s = 3 (s in {0, 1, 2, 5} would fit)"));
  CHECK_THROWS_MATCHES(code({.nodes = 7, .partitions = 7, .tolerance = 1}), gradcode::invalid_parameters,
                       what_contains("(s in {0, 6} would fit)"));
  CHECK_THROWS_MATCHES(code({.nodes = 6, .partitions = 2, .tolerance = 1}), gradcode::invalid_parameters,
                       what_contains("K = 2 partitions for 3 groups; need K >= n/(s+1) = 3"));
  CHECK_THROWS_MATCHES(code({.nodes = 0, .partitions = 1, .tolerance = 0}), gradcode::invalid_parameters,
                       what_contains("n = 0; need n >= 1"));
  CHECK_THROWS_WITH(code({.nodes = 6, .partitions = 6, .tolerance = 3}),
                    Catch::Matchers::StartsWith("gradcode::invalid_parameters: fractional repetition"));
}
