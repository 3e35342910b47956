// SPDX-License-Identifier: MIT
// core/decoding_plan.hpp: apply() — the streaming kernel ĝ = Σ_j a_j · message_j — against a dense
// Eigen oracle for every responder count mod 4 and d across block boundaries; the id and size
// checks; non-finite messages named by node and element.
#include <catch2/catch.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <gradcode/core/decoding_plan.hpp>

#include "test_support.hpp"

using gradcode::decoding_plan;
using gradcode::Index;
using gradcode::matrix;
using gradcode::pattern;
using gradcode::vector;

namespace {
using gradcode::test::thrown_node;
using gradcode::test::what_contains;

/// A plan over `n` nodes for responders `ids` with random coefficients (zero elsewhere).
template <class T>
decoding_plan<T> random_plan(Index n, const std::vector<Index>& ids, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  vector<double> a = vector<double>::Zero(n);
  for (Index id : ids) a[id] = normal(rng);
  return decoding_plan<T>(pattern::from_ids(n, ids), a, 0.0, a.cwiseAbs().sum());
}

template <class T>
matrix<T> random_messages(Index d, Index f, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  matrix<T> m(d, f);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(normal(rng));
  return m;
}

}  // namespace

TEMPLATE_TEST_CASE("decoding plan: apply equals the dense oracle Σ a_j m_j for 1..9 responders and d across blocks",
                   "[decoding_plan][oracle]", float, double) {
  std::mt19937_64 rng(51);
  const double tol = std::is_same_v<TestType, float> ? 1e-6 : 1e-15;
  for (Index d : {1, 7, 1023, 1024, 1025, 3000}) {
    for (Index f = 1; f <= 9; ++f) {
      INFO("d = " << d << ", f = " << f);
      std::vector<Index> ids(static_cast<std::size_t>(f));
      std::iota(ids.begin(), ids.end(), Index{0});
      std::shuffle(ids.begin(), ids.end(), rng);  // any order
      const auto plan = random_plan<TestType>(12, ids, rng);
      const matrix<TestType> messages = random_messages<TestType>(d, f, rng);
      vector<double> a(f);
      for (Index j = 0; j < f; ++j) a[j] = plan.coefficient(ids[static_cast<std::size_t>(j)]);
      const vector<double> oracle = messages.template cast<double>() * a;
      vector<TestType> out(d);
      plan.apply(ids, messages, out);
      const double scale = messages.template cast<double>().cwiseAbs().rowwise().sum().maxCoeff() * a.cwiseAbs().maxCoeff();
      CHECK((out.template cast<double>() - oracle).cwiseAbs().maxCoeff() <= tol * scale * static_cast<double>(f));
    }
  }
}

TEST_CASE("decoding plan: apply reads messages through any outer stride (a block of a larger buffer)", "[decoding_plan]") {
  std::mt19937_64 rng(52);
  const std::vector<Index> ids{3, 1};
  const auto plan = random_plan<double>(5, ids, rng);
  const matrix<double> big = random_messages<double>(100, 6, rng);
  const auto block = big.block(10, 1, 50, 2);
  vector<double> out(50);
  plan.apply(ids, block, out);
  const vector<double> oracle =
      plan.coefficient(3) * big.col(1).segment(10, 50) + plan.coefficient(1) * big.col(2).segment(10, 50);
  CHECK((out - oracle).cwiseAbs().maxCoeff() <= 1e-14);
}

TEST_CASE("decoding plan: apply rejects ids that are not exactly its responders", "[decoding_plan][errors]") {
  std::mt19937_64 rng(53);
  const auto plan = random_plan<double>(6, {0, 2, 5}, rng);
  vector<double> out = vector<double>::Constant(16, 9.0);
  const matrix<double> three = random_messages<double>(16, 3, rng);
  CHECK_NOTHROW(plan.apply(std::vector<Index>{5, 0, 2}, three, out));
  out.setConstant(9.0);
  CHECK_THROWS_MATCHES(plan.apply(std::vector<Index>{0, 2, 4}, three, out), gradcode::invalid_input,
                       what_contains("not the responders this plan was solved for"));
  CHECK_THROWS_MATCHES(plan.apply(std::vector<Index>{0, 2}, random_messages<double>(16, 2, rng), out), gradcode::invalid_input,
                       what_contains("not the responders"));
  CHECK_THROWS_MATCHES(plan.apply(std::vector<Index>{0, 2, 5}, random_messages<double>(16, 2, rng), out), gradcode::invalid_input,
                       what_contains("3 node ids for 2 messages"));
  CHECK_THROWS_MATCHES(plan.apply(std::vector<Index>{0, 2, 2}, three, out), gradcode::invalid_input,
                       what_contains("node 2 appears twice"));
  CHECK(thrown_node([&] { plan.apply(std::vector<Index>{0, 2, 6}, three, out); }) == 6);
  vector<double> short_out(15);
  CHECK_THROWS_MATCHES(plan.apply(std::vector<Index>{0, 2, 5}, three, short_out), gradcode::invalid_input,
                       what_contains("output has length 15, messages have length 16"));
  CHECK((out.array() == 9.0).all());  // every rejection above happened before out was written
}

TEMPLATE_TEST_CASE("decoding plan: a NaN or Inf message throws invalid_input naming the node and the element",
                   "[decoding_plan][errors]", float, double) {
  std::mt19937_64 rng(54);
  const std::vector<Index> ids{7, 2, 4, 0, 9};
  const auto plan = random_plan<TestType>(10, ids, rng);
  const Index d = 2500;
  matrix<TestType> messages = random_messages<TestType>(d, 5, rng);
  const Index column = GENERATE(0, 3, 4);
  const Index element = GENERATE(0, 1023, 1024, 2499);
  messages(element, column) = GENERATE(std::numeric_limits<TestType>::quiet_NaN(), std::numeric_limits<TestType>::infinity());
  const Index node = ids[static_cast<std::size_t>(column)];
  vector<TestType> out(d);
  CHECK_THROWS_MATCHES(
      plan.apply(ids, messages, out), gradcode::invalid_input,
      what_contains("message of node " + std::to_string(node) + " has a non-finite value at element " + std::to_string(element)));
  CHECK(thrown_node([&] { plan.apply(ids, messages, out); }) == node);
}

TEST_CASE("decoding plan: finite messages whose weighted sum overflows float throw invalid_input, not a silent Inf",
          "[decoding_plan][errors]") {
  const std::vector<Index> ids{0, 1};
  vector<double> a(2);
  a << 1.0, 1.0;
  const decoding_plan<float> plan(pattern::from_ids(2, ids), a, 0, 2);
  matrix<float> messages = matrix<float>::Ones(8, 2);
  messages(5, 0) = messages(5, 1) = 3e38f;
  vector<float> out(8);
  CHECK_THROWS_MATCHES(plan.apply(ids, messages, out), gradcode::invalid_input, what_contains("overflows near element 0"));
  CHECK(thrown_node([&] { plan.apply(ids, messages, out); }) == -1);
}

TEST_CASE("decoding plan: accessors return what the plan was built with", "[decoding_plan]") {
  vector<double> a = vector<double>::Zero(4);
  a[1] = 0.5;
  a[3] = -2;
  const auto p = pattern::from_ids(4, std::vector<Index>{1, 3});
  const decoding_plan<float> plan(p, a, 1e-13, 2.5);
  CHECK(plan.responders() == p);
  CHECK(plan.coefficient(1) == 0.5);
  CHECK(plan.coefficient(3) == -2);
  CHECK(plan.coefficient(0) == 0);
  CHECK(plan.coefficients() == a);
  CHECK(plan.residual() == 1e-13);
  CHECK(plan.amplification() == 2.5);
}

// Regression (issue 13): coefficient() indexed the vector unchecked (an out-of-bounds read for a
// bad id), and a plan whose coefficient vector was shorter than its node count read past it in
// apply().
TEST_CASE("decoding plan: a bad node id or a malformed coefficient vector is a typed error, not an out-of-bounds read",
          "[decoding_plan][errors]") {
  vector<double> a = vector<double>::Zero(4);
  a[1] = 0.5;
  const auto p = pattern::from_ids(4, std::vector<Index>{1});
  const decoding_plan<double> plan(p, a, 0, 0.5);
  CHECK_THROWS_MATCHES(plan.coefficient(4), gradcode::invalid_input, what_contains("node id 4 is outside [0, 4)"));
  CHECK(thrown_node([&] { plan.coefficient(-1); }) == -1);
  CHECK_THROWS_MATCHES(decoding_plan<double>(p, vector<double>::Zero(2), 0, 1), gradcode::invalid_parameters,
                       what_contains("2 coefficients for a pattern over 4 nodes"));
  vector<double> nan = a;
  nan[1] = std::nan("");
  CHECK_THROWS_MATCHES(decoding_plan<double>(p, nan, 0, 1), gradcode::invalid_parameters, what_contains("not all finite"));
  CHECK_THROWS_MATCHES(decoding_plan<double>(p, a, 0, -1), gradcode::invalid_parameters, what_contains("amplification"));
  CHECK_THROWS_AS(decoding_plan<double>(p, a, 0, std::numeric_limits<double>::infinity()), gradcode::invalid_parameters);
}

// Regression (issue 13): with `out` aliasing a message column the kernel overwrote that message
// with partial sums before reading it again, and returned a silently wrong sum.
TEST_CASE("decoding plan: an output that overlaps the messages throws invalid_input before anything is written",
          "[decoding_plan][errors]") {
  std::mt19937_64 rng(55);
  const std::vector<Index> ids{0, 1, 2, 3, 4, 5};
  const auto plan = random_plan<double>(6, ids, rng);
  matrix<double> messages = random_messages<double>(64, 6, rng);
  const matrix<double> copy = messages;
  for (Index column : {0, 3, 5}) {
    INFO("out is message column " << column);
    CHECK_THROWS_MATCHES(plan.apply(ids, messages, messages.col(column)), gradcode::invalid_input,
                         what_contains("output overlaps the messages"));
    CHECK(messages == copy);
  }
  // A window straddling two columns overlaps too; a separate buffer does not.
  Eigen::Map<vector<double>> straddling(messages.data() + 40, 64);
  CHECK_THROWS_AS(plan.apply(ids, messages, straddling), gradcode::invalid_input);
  vector<double> out(64);
  CHECK_NOTHROW(plan.apply(ids, messages, out));
  CHECK((out - copy * plan.coefficients()).cwiseAbs().maxCoeff() <= 1e-13);
}

// Regression (issue 13): float messages in the subnormal range round absolutely (half of
// denorm_min per product, whatever the result's size), which the 4·ε·amplification estimate
// does not see; a decode of subnormal partials came back off by 1e-2 with no exception.
TEST_CASE(
    "decoding plan: float sums too small for the absolute rounding floor throw invalid_input, normal-range and zero sums decode",
    "[decoding_plan][errors][subnormal]") {
  std::mt19937_64 rng(56);
  const std::vector<Index> ids{0, 1, 2};
  const auto plan = random_plan<float>(3, ids, rng);
  const Index d = 4000;
  const matrix<float> unit = random_messages<float>(d, 3, rng);
  vector<float> out(d);
  SECTION("messages near 1e-42 (subnormal) are refused, naming the remedy") {
    const matrix<float> tiny = unit * 1e-42f;
    CHECK_THROWS_MATCHES(plan.apply(ids, tiny, out), gradcode::invalid_input,
                         what_contains("too small to be accurate in float") && what_contains("scale the partial gradients up"));
    CHECK(plan.smallest_accurate_norm(d) > (tiny * plan.coefficients().cast<float>()).cast<double>().norm());
  }
  SECTION("the same data scaled up by 2^100 (the remedy the message names) decodes accurately") {
    const auto scale = static_cast<float>(std::ldexp(1e-42, 100));  // ≈ 1.3e-12, a normal float
    plan.apply(ids, unit * scale, out);
    const vector<double> oracle = unit.cast<double>() * plan.coefficients() * static_cast<double>(scale);
    CHECK((out.cast<double>() - oracle).norm() <= 1e-6 * oracle.norm());
  }
  SECTION("normal-range messages of 1e-30 decode: the floor only matters below ~1e-38") {
    const matrix<float> small = unit * 1e-30f;
    CHECK_NOTHROW(plan.apply(ids, small, out));
    CHECK(plan.smallest_accurate_norm(d) < 1e-30);
  }
  SECTION("exactly zero messages decode to exactly zero") {
    CHECK_NOTHROW(plan.apply(ids, matrix<float>::Zero(d, 3), out));
    CHECK((out.array() == 0.0f).all());
  }
  SECTION("one subnormal element among zeros is refused (its rounding is all there is)") {
    matrix<float> sparse = matrix<float>::Zero(d, 3);
    sparse(17, 1) = 3e-44f;
    CHECK_THROWS_AS(plan.apply(ids, sparse, out), gradcode::invalid_input);
  }
}

TEST_CASE("decoding plan: double sums are refused only deep in double's subnormal range", "[decoding_plan][subnormal]") {
  std::mt19937_64 rng(57);
  const std::vector<Index> ids{0, 1, 2, 3};
  const auto plan = random_plan<double>(4, ids, rng);
  const matrix<double> unit = random_messages<double>(1000, 4, rng);
  vector<double> out(1000);
  CHECK_NOTHROW(plan.apply(ids, unit * 1e-300, out));
  CHECK_THROWS_AS(plan.apply(ids, unit * 1e-318, out), gradcode::invalid_input);
  CHECK(plan.smallest_accurate_norm(1000) < 1e-300);
}
