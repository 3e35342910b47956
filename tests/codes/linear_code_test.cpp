// SPDX-License-Identifier: MIT
// linear_code<Scalar>: the encode / plan / decode API every single-layer code shares — kernels
// against a dense Eigen oracle, the plan cache, responder order, and every error path.
#include <catch2/catch.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <gradcode/codes/cyclic_mds.hpp>
#include <gradcode/codes/cyclic_repetition.hpp>
#include <gradcode/codes/fractional_repetition.hpp>
#include <gradcode/codes/heterogeneous.hpp>
#include <gradcode/codes/linear_code.hpp>

#include "codes/code_properties.hpp"

using gradcode::Index;
using gradcode::linear_code;
using gradcode::matrix;
using gradcode::pattern;
using gradcode::vector;
using gradcode::test::what_contains;

namespace {
using gradcode::test::thrown_node;

/// One code of each kind (sliced to linear_code: the API under test), small enough to sweep.
template <class T>
std::vector<std::pair<std::string, linear_code<T>>> sample_codes() {
  std::vector<std::pair<std::string, linear_code<T>>> out;
  out.emplace_back("fractional_repetition n=6 K=9 s=2",
                   gradcode::fractional_repetition_code<T>({.nodes = 6, .partitions = 9, .tolerance = 2}));
  out.emplace_back("cyclic_repetition n=7 K=10 s=2",
                   gradcode::cyclic_repetition_code<T>({.nodes = 7, .partitions = 10, .tolerance = 2}));
  out.emplace_back("cyclic_mds n=7 K=7 s=2", gradcode::cyclic_mds_code<T>({.nodes = 7, .partitions = 7, .tolerance = 2}));
  out.emplace_back("heterogeneous c={3,1,2,1,1,2} K=8 s=1",
                   gradcode::heterogeneous_code<T>({.capacities = {3, 1, 2, 1, 1, 2}, .partitions = 8, .tolerance = 1}));
  return out;
}

/// The 3-node code of the hand-built tests: node 0 sends g_0, node 1 sends g_1, node 2 sends
/// g_0 + g_1; any two nodes decode (s = 1).
gradcode::code_definition sum_code_definition() {
  gradcode::sparse_matrix<double> B(3, 2);
  B.insert(0, 0) = 1;
  B.insert(1, 1) = 1;
  B.insert(2, 0) = 1;
  B.insert(2, 1) = 1;
  return {gradcode::assignment(2, {{0}, {1}, {0, 1}}), B, 1};
}

template <class T>
matrix<T> random_matrix(Index rows, Index cols, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  matrix<T> m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(normal(rng));
  return m;
}

template <class T>
matrix<T> messages_of(const linear_code<T>& code, const matrix<T>& partials, const std::vector<Index>& ids) {
  matrix<T> out(partials.rows(), static_cast<Index>(ids.size()));
  for (std::size_t j = 0; j < ids.size(); ++j) out.col(static_cast<Index>(j)) = code.encode(ids[j], partials);
  return out;
}

template <class T>
constexpr double kernel_tolerance() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-13;
}

}  // namespace

TEMPLATE_TEST_CASE("linear code: encode equals the dense oracle B·g for every node of every code", "[linear_code][oracle]", float,
                   double) {
  for (const auto& [name, code] : sample_codes<TestType>()) {
    INFO(name);
    const Index d = 2500;  // three kernel blocks, the last one partial
    const matrix<TestType> partials = random_matrix<TestType>(d, code.partitions(), 11);
    const matrix<double> B = matrix<double>(code.encoding_matrix());
    const matrix<double> oracle = partials.template cast<double>() * B.transpose();  // d × n
    for (Index i = 0; i < code.nodes(); ++i) {
      const vector<TestType> m = code.encode(i, partials);
      CHECK((m.template cast<double>() - oracle.col(i)).norm() <= kernel_tolerance<TestType>() * oracle.col(i).norm() + 1e-300);
    }
  }
}

TEMPLATE_TEST_CASE("linear code: encode_held on the held columns equals encode on all K columns, bit for bit",
                   "[linear_code][encode]", float, double) {
  for (const auto& [name, code] : sample_codes<TestType>()) {
    INFO(name);
    const matrix<TestType> partials = random_matrix<TestType>(1500, code.partitions(), 12);
    for (Index i = 0; i < code.nodes(); ++i) {
      const auto held_ids = code.support().partitions_of(i);
      REQUIRE(static_cast<Index>(held_ids.size()) == code.load(i));
      matrix<TestType> held(partials.rows(), code.load(i));
      for (Index t = 0; t < code.load(i); ++t) held.col(t) = partials.col(held_ids[static_cast<std::size_t>(t)]);
      vector<TestType> via_held(partials.rows());
      code.encode_held(i, held, via_held);
      const vector<TestType> via_all = code.encode(i, partials);
      CHECK((via_held - via_all).cwiseAbs().maxCoeff() == TestType(0));
    }
  }
}

TEST_CASE("linear code: encode reads only the partitions the node holds", "[linear_code][encode]") {
  gradcode::cyclic_repetition_code<double> code({.nodes = 5, .partitions = 5, .tolerance = 1});
  matrix<double> partials = random_matrix<double>(64, 5, 13);
  partials(7, 4) = std::numeric_limits<double>::quiet_NaN();  // partition 4: held by nodes 3 and 4
  for (Index i = 0; i < 3; ++i) CHECK(code.encode(i, partials).allFinite());
  CHECK_THROWS_MATCHES(code.encode(3, partials), gradcode::invalid_input, what_contains("node 3's message is not finite"));
  CHECK(thrown_node([&] { code.encode(4, partials); }) == 4);
}

TEMPLATE_TEST_CASE("linear code: the plan's coefficients satisfy aᵀB_F = 1ᵀ and vanish outside F", "[linear_code][plan]", float,
                   double) {
  for (const auto& [name, code] : sample_codes<TestType>()) {
    INFO(name);
    const matrix<double> B = matrix<double>(code.encoding_matrix());
    gradcode::test::for_each_subset(code.nodes(), code.tolerance(), [&](const std::vector<Index>& stragglers) {
      const auto p = pattern::all_except(code.nodes(), stragglers);
      const auto plan = code.plan(p);
      REQUIRE(plan->responders() == p);
      for (Index s : stragglers) CHECK(plan->coefficient(s) == 0.0);
      const double residual =
          (B.transpose() * plan->coefficients() - vector<double>::Ones(code.partitions())).cwiseAbs().maxCoeff();
      CHECK(residual <= 1e-9);
      CHECK(plan->residual() <= code.options().residual_tolerance);
      CHECK(plan->amplification() >= 1 - 1e-9);  // Σ|a_j|‖b_j‖₁ ≥ ‖1‖₁ = K, and amplification is that / K
    });
  }
}

TEST_CASE("linear code: hand-built sum code decodes with the only possible coefficients", "[linear_code][kat]") {
  const linear_code<double> code(sum_code_definition());
  CHECK(code.nodes() == 3);
  CHECK(code.partitions() == 2);
  CHECK(code.tolerance() == 1);
  CHECK(code.responders_needed() == 2);
  CHECK(code.load(2) == 2);
  // F = {0, 2}: a_0 g_0 + a_2 (g_0 + g_1) = g_0 + g_1 forces a = (0, ·, 1).
  const auto p02 = code.plan(pattern::from_ids(3, std::vector<Index>{0, 2}));
  CHECK(p02->coefficient(0) == Approx(0).margin(1e-14));
  CHECK(p02->coefficient(2) == Approx(1).margin(1e-14));
  const auto p01 = code.plan(pattern::from_ids(3, std::vector<Index>{0, 1}));
  CHECK(p01->coefficient(0) == Approx(1).margin(1e-14));
  CHECK(p01->coefficient(1) == Approx(1).margin(1e-14));
  const auto report = code.verify();
  CHECK(report.satisfied);
  CHECK(report.exhaustive);
  CHECK(report.subsets_checked == 3);
}

TEMPLATE_TEST_CASE("linear code: a plan from the cache is the same object and equals a fresh solve", "[linear_code][plan][cache]",
                   float, double) {
  for (const auto& [name, code] : sample_codes<TestType>()) {
    INFO(name);
    const linear_code<TestType> fresh(code);  // copies start with an empty cache
    CHECK(fresh.cached_plans() == 0);
    const linear_code<TestType> uncached(gradcode::code_definition{code.support(), code.encoding_matrix(), code.tolerance()},
                                         gradcode::decode_options{.plan_cache_size = 0});
    std::size_t expected = code.cached_plans();
    gradcode::test::for_each_subset(code.nodes(), code.tolerance(), [&](const std::vector<Index>& stragglers) {
      const auto p = pattern::all_except(code.nodes(), stragglers);
      const auto first = code.plan(p);
      CHECK(code.cached_plans() == ++expected);
      const auto again = code.plan(p);
      CHECK(again.get() == first.get());
      CHECK(code.cached_plans() == expected);
      const auto recomputed = fresh.plan(p);
      CHECK(recomputed.get() != first.get());
      CHECK(recomputed->coefficients() == first->coefficients());
      const auto never_cached = uncached.plan(p);
      CHECK(never_cached->coefficients() == first->coefficients());
      CHECK(uncached.plan(p).get() != never_cached.get());
    });
    CHECK(uncached.cached_plans() == 0);
  }
}

TEST_CASE("linear code: the plan cache keeps at most plan_cache_size plans, most recently used first",
          "[linear_code][plan][cache]") {
  const auto def = sum_code_definition();
  const linear_code<double> code(def, {.plan_cache_size = 2});
  const auto p01 = pattern::from_ids(3, std::vector<Index>{0, 1});
  const auto p02 = pattern::from_ids(3, std::vector<Index>{0, 2});
  const auto p12 = pattern::from_ids(3, std::vector<Index>{1, 2});
  const auto a = code.plan(p01);
  const auto b = code.plan(p02);
  CHECK(code.plan(p01).get() == a.get());  // p01 is now the most recent
  code.plan(p12);                          // evicts p02
  CHECK(code.cached_plans() == 2);
  CHECK(code.plan(p01).get() == a.get());
  CHECK(code.plan(p02).get() != b.get());
}

TEST_CASE("linear code: concurrent plan() calls from two threads share one cached plan per pattern, equal to a serial solve",
          "[linear_code][plan][cache][threads]") {
  const gradcode::cyclic_repetition_code<double> code({.nodes = 12, .partitions = 12, .tolerance = 4});
  const linear_code<double> serial(code);
  std::vector<pattern> patterns;
  gradcode::test::for_each_subset(12, 4, [&](const std::vector<Index>& s) { patterns.push_back(pattern::all_except(12, s)); });
  using plan_ptr = std::shared_ptr<const gradcode::decoding_plan<double>>;
  std::vector<std::vector<plan_ptr>> got(2, std::vector<plan_ptr>(patterns.size()));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      // Thread 0 walks forwards, thread 1 backwards: they meet on misses in the middle.
      for (std::size_t i = 0; i < patterns.size(); ++i) {
        const std::size_t idx = t == 0 ? i : patterns.size() - 1 - i;
        got[t][idx] = code.plan(patterns[idx]);
        got[t][idx] = code.plan(patterns[idx]);  // second call: a hit
      }
    });
  for (auto& th : threads) th.join();
  CHECK(code.cached_plans() == patterns.size());
  Index same_object = 0, equal_to_serial = 0;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    same_object += got[0][i].get() == got[1][i].get();
    equal_to_serial += got[0][i]->coefficients() == serial.plan(patterns[i])->coefficients();
  }
  CHECK(same_object == static_cast<Index>(patterns.size()));
  CHECK(equal_to_serial == static_cast<Index>(patterns.size()));
}

TEMPLATE_TEST_CASE("linear code: decode accepts the responders in any order", "[linear_code][decode]", float, double) {
  std::mt19937_64 rng(14);
  for (const auto& [name, code] : sample_codes<TestType>()) {
    INFO(name);
    const matrix<TestType> partials = random_matrix<TestType>(2100, code.partitions(), 15);
    const vector<double> exact = partials.template cast<double>().rowwise().sum();
    std::vector<Index> ids(static_cast<std::size_t>(code.nodes()));
    std::iota(ids.begin(), ids.end(), Index{0});
    ids.erase(ids.begin() + 1);  // one straggler
    const vector<TestType> sorted = code.decode(ids, messages_of(code, partials, ids));
    for (int trial = 0; trial < 10; ++trial) {
      std::shuffle(ids.begin(), ids.end(), rng);
      INFO("order " << gradcode::test::to_string(ids));
      const vector<TestType> shuffled = code.decode(ids, messages_of(code, partials, ids));
      CHECK((shuffled - sorted).template cast<double>().norm() <= kernel_tolerance<TestType>() * exact.norm());
      CHECK((shuffled.template cast<double>() - exact).norm() <= gradcode::test::error_bound<TestType>() * exact.norm());
    }
  }
}

TEMPLATE_TEST_CASE("linear code: decode into a caller's buffer (Eigen::Map over user memory) equals the returning overload",
                   "[linear_code][decode]", float, double) {
  const gradcode::cyclic_mds_code<TestType> code({.nodes = 5, .partitions = 5, .tolerance = 2});
  const matrix<TestType> partials = random_matrix<TestType>(100, 5, 16);
  const std::vector<Index> ids{4, 0, 2};
  const matrix<TestType> received = messages_of(code, partials, ids);
  std::vector<TestType> buffer(100, TestType(-1));
  code.decode(ids, Eigen::Map<const matrix<TestType>>(received.data(), 100, 3), Eigen::Map<vector<TestType>>(buffer.data(), 100));
  const vector<TestType> returned = code.decode(ids, received);
  CHECK((Eigen::Map<vector<TestType>>(buffer.data(), 100) - returned).cwiseAbs().maxCoeff() == TestType(0));
}

TEST_CASE("linear code: decodable() is noexcept and agrees with plan() on every responder set", "[linear_code][plan]") {
  STATIC_REQUIRE(noexcept(std::declval<const linear_code<double>&>().decodable(std::declval<const pattern&>())));
  for (const auto& [name, code] : sample_codes<double>()) {
    INFO(name);
    const linear_code<double> other(code);  // separate cache: decodable() must not depend on plan()'s cache
    Index agree = 0, decodable_sets = 0;
    for (std::uint64_t mask = 0; mask < (std::uint64_t{1} << code.nodes()); ++mask) {
      pattern p(code.nodes());
      for (Index i = 0; i < code.nodes(); ++i)
        if ((mask >> i) & 1u) p.insert(i);
      bool planned = true;
      try {
        other.plan(p);
      } catch (const gradcode::not_decodable&) {
        planned = false;
      }
      const bool says = code.decodable(p);
      agree += says == planned;
      decodable_sets += says;
      if (p.count() >= code.responders_needed()) CHECK(says);
    }
    CHECK(agree == (Index{1} << code.nodes()));
    CHECK(decodable_sets > 0);
    CHECK(decodable_sets < (Index{1} << code.nodes()));
    CHECK_FALSE(code.decodable(pattern(code.nodes() + 1)));  // wrong node count: false, not a throw
    CHECK_FALSE(code.decodable(pattern(code.nodes())));      // nobody responded
  }
}

TEST_CASE("linear code: plan() on a pattern over another node count throws invalid_input", "[linear_code][errors]") {
  const gradcode::cyclic_mds_code<double> code({.nodes = 5, .partitions = 5, .tolerance = 2});
  CHECK_THROWS_MATCHES(code.plan(pattern(6)), gradcode::invalid_input, what_contains("pattern over 6 nodes, the code has n = 5"));
}

TEMPLATE_TEST_CASE("linear code: too few responders throw not_decodable with the counts", "[linear_code][errors]", float,
                   double) {
  const gradcode::cyclic_mds_code<TestType> code({.nodes = 7, .partitions = 7, .tolerance = 2});
  const matrix<TestType> partials = random_matrix<TestType>(64, 7, 17);
  const std::vector<Index> ids{0, 2, 3, 6};  // 4 of 7, 5 needed
  const matrix<TestType> received = messages_of(code, partials, ids);
  vector<TestType> out = vector<TestType>::Constant(64, TestType(42));
  CHECK_THROWS_MATCHES(code.decode(ids, received, out), gradcode::not_decodable,
                       what_contains("4 of 7 nodes responded, 5 needed"));
  CHECK((out.array() == TestType(42)).all());  // out untouched
  try {
    code.decode(ids, received);
    FAIL("decode returned a sum from 4 of 7 responders");
  } catch (const gradcode::not_decodable& e) {
    CHECK(e.received() == 4);
    CHECK(e.needed() == 5);
    CHECK_THAT(e.what(), Catch::Matchers::StartsWith("gradcode::not_decodable: ") && Catch::Matchers::Contains("needed"));
  }
  // Nobody responded at all.
  CHECK_THROWS_MATCHES(code.decode(std::vector<Index>{}, matrix<TestType>(64, 0)), gradcode::not_decodable,
                       what_contains("0 of 7 nodes responded, 5 needed"));
}

TEMPLATE_TEST_CASE("linear code: mismatched dimensions throw invalid_input naming the sizes", "[linear_code][errors]", float,
                   double) {
  const gradcode::heterogeneous_code<TestType> code({.capacities = {1, 2, 1, 2}, .partitions = 6, .tolerance = 1});
  const matrix<TestType> partials = random_matrix<TestType>(64, 6, 18);
  vector<TestType> out(64);
  SECTION("partials with K − 1 columns") {
    CHECK_THROWS_MATCHES(code.encode(1, partials.leftCols(5), out), gradcode::invalid_input,
                         what_contains("partials have 5 columns, the code has K = 6 partitions"));
    CHECK(thrown_node([&] { code.encode(1, partials.leftCols(5), out); }) == 1);
  }
  SECTION("encode output of the wrong length") {
    vector<TestType> short_out(63);
    CHECK_THROWS_MATCHES(code.encode(2, partials, short_out), gradcode::invalid_input,
                         what_contains("output has length 63, gradients have d = 64"));
  }
  SECTION("encode_held with a column too many") {
    const Index load = code.load(3);
    const matrix<TestType> held = random_matrix<TestType>(64, load + 1, 19);
    CHECK_THROWS_MATCHES(
        code.encode_held(3, held, out), gradcode::invalid_input,
        what_contains("node 3 holds " + std::to_string(load) + " partitions, got " + std::to_string(load + 1) + " columns"));
  }
  SECTION("decode with more ids than message columns") {
    const std::vector<Index> ids{0, 1, 2};
    const matrix<TestType> received = messages_of(code, partials, {0, 1});
    CHECK_THROWS_MATCHES(code.decode(ids, received, out), gradcode::invalid_input, what_contains("3 node ids for 2 messages"));
  }
  SECTION("decode output of the wrong length") {
    const std::vector<Index> ids{0, 1, 2};
    const matrix<TestType> received = messages_of(code, partials, ids);
    vector<TestType> long_out = vector<TestType>::Constant(65, TestType(7));
    CHECK_THROWS_MATCHES(code.decode(ids, received, long_out), gradcode::invalid_input,
                         what_contains("output has length 65, messages have length 64"));
    CHECK((long_out.array() == TestType(7)).all());
  }
  SECTION("encode at a node id outside [0, n)") {
    CHECK_THROWS_MATCHES(code.encode(4, partials, out), gradcode::invalid_input, what_contains("node id 4 is outside [0, 4)"));
    CHECK(thrown_node([&] { code.encode(-1, partials, out); }) == -1);
    CHECK_THROWS_AS(code.load(4), gradcode::invalid_input);
  }
}

TEMPLATE_TEST_CASE("linear code: duplicate and out-of-range responder ids throw invalid_input naming the node",
                   "[linear_code][errors]", float, double) {
  const gradcode::cyclic_repetition_code<TestType> code({.nodes = 6, .partitions = 6, .tolerance = 2});
  const matrix<TestType> partials = random_matrix<TestType>(64, 6, 20);
  vector<TestType> out = vector<TestType>::Constant(64, TestType(3));
  SECTION("a node listed twice") {
    const std::vector<Index> ids{0, 3, 1, 3, 5};
    const matrix<TestType> received = messages_of(code, partials, ids);
    CHECK_THROWS_MATCHES(code.decode(ids, received, out), gradcode::invalid_input,
                         what_contains("node 3 appears twice among the responders"));
    CHECK(thrown_node([&] { code.decode(ids, received, out); }) == 3);
  }
  SECTION("an id ≥ n") {
    const std::vector<Index> ids{0, 1, 2, 6};
    const matrix<TestType> received = random_matrix<TestType>(64, 4, 21);
    CHECK_THROWS_MATCHES(code.decode(ids, received, out), gradcode::invalid_input, what_contains("node id 6 is outside [0, 6)"));
    CHECK(thrown_node([&] { code.decode(ids, received, out); }) == 6);
  }
  SECTION("a negative id") {
    const std::vector<Index> ids{-2, 1, 2, 3};
    const matrix<TestType> received = random_matrix<TestType>(64, 4, 22);
    CHECK(thrown_node([&] { code.decode(ids, received, out); }) == -2);
  }
  CHECK((out.array() == TestType(3)).all());  // validated before out is touched
}

TEMPLATE_TEST_CASE("linear code: a NaN or Inf in a message throws invalid_input naming the node", "[linear_code][errors]", float,
                   double) {
  const gradcode::cyclic_mds_code<TestType> code({.nodes = 7, .partitions = 7, .tolerance = 2});
  const Index d = 3000;
  const matrix<TestType> partials = random_matrix<TestType>(d, 7, 23);
  const std::vector<Index> ids{6, 1, 4, 0, 2};
  matrix<TestType> received = messages_of(code, partials, ids);
  const TestType bad = GENERATE(std::numeric_limits<TestType>::quiet_NaN(), std::numeric_limits<TestType>::infinity(),
                                -std::numeric_limits<TestType>::infinity());
  const Index column = GENERATE(0, 2, 4);
  const Index element = GENERATE(0, 1500, 2999);
  received(element, column) = bad;
  const Index node = ids[static_cast<std::size_t>(column)];
  INFO("bad value " << bad << " at element " << element << " of node " << node);
  vector<TestType> out(d);
  CHECK_THROWS_MATCHES(
      code.decode(ids, received, out), gradcode::invalid_input,
      what_contains("message of node " + std::to_string(node) + " has a non-finite value at element " + std::to_string(element)));
  CHECK(thrown_node([&] { code.decode(ids, received, out); }) == node);
}

TEST_CASE("linear code: a definition whose matrix disagrees with its support is rejected at construction",
          "[linear_code][errors]") {
  auto def = sum_code_definition();
  SECTION("B uses a partition the node does not hold") {
    def.encoding.coeffRef(0, 1) = 0.5;
    CHECK_THROWS_MATCHES(linear_code<double>(def), gradcode::invalid_parameters,
                         what_contains("uses partition 1 at node 0, which the assignment does not give that node"));
  }
  SECTION("B has the wrong shape") {
    def.encoding.resize(3, 3);
    CHECK_THROWS_MATCHES(linear_code<double>(def), gradcode::invalid_parameters,
                         what_contains("the assignment has n = 3 nodes and K = 2"));
  }
  SECTION("B has a non-finite entry") {
    def.encoding.coeffRef(2, 1) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_MATCHES(linear_code<double>(def), gradcode::invalid_parameters, what_contains("entry (2, 1) is not finite"));
  }
  SECTION("a partition held by fewer than s + 1 nodes") {
    def.tolerance = 2;
    CHECK_THROWS_MATCHES(linear_code<double>(def), gradcode::invalid_parameters,
                         what_contains("needs every partition on >= 3 nodes"));
  }
  SECTION("s = n") {
    def.tolerance = 3;
    CHECK_THROWS_MATCHES(linear_code<double>(def), gradcode::invalid_parameters, what_contains("needs s < n = 3"));
  }
}

TEMPLATE_TEST_CASE("linear code: however ill-conditioned the code, decode returns a sum within the bound or throws not_decodable",
                   "[linear_code][errors][conditioning]", float, double) {
  // Node 0 sends g_0, node 1 sends g_0 + ε·g_1: the only decode is (1 − 1/ε)·m_0 + (1/ε)·m_1, whose
  // amplification 2/ε multiplies the rounding of the messages (ε_float ≈ 6e-8, ε_double ≈ 1.1e-16).
  // Every ε must give either a sum within error_bound<T>() (1e-4 float, 1e-9 double) or
  // not_decodable — never a silently wrong gradient (DESIGN.md "Errors").
  const matrix<TestType> partials = random_matrix<TestType>(256, 2, 24);
  const vector<double> exact = partials.template cast<double>().rowwise().sum();
  const std::vector<Index> ids{0, 1};
  Index decoded = 0, refused = 0, wrong = 0;
  double worst_accepted = 0, worst_eps = 0, worst_amplification = 0;
  for (int e = 10; e <= 100; ++e) {
    const double eps = std::pow(10.0, -e / 10.0);  // 1e-1 … 1e-10
    gradcode::sparse_matrix<double> B(2, 2);
    B.insert(0, 0) = 1;
    B.insert(1, 0) = 1;
    B.insert(1, 1) = eps;
    const linear_code<TestType> code(gradcode::code_definition{gradcode::assignment(2, {{0}, {0, 1}}), B, 0});
    try {
      const vector<TestType> sum = code.decode(ids, messages_of(code, partials, ids));
      const double err = (sum.template cast<double>() - exact).norm() / exact.norm();
      ++decoded;
      if (err > gradcode::test::error_bound<TestType>()) ++wrong;
      if (err > worst_accepted) {
        worst_accepted = err;
        worst_eps = eps;
        worst_amplification = code.plan(pattern::from_ids(2, ids))->amplification();
      }
    } catch (const gradcode::not_decodable&) {
      ++refused;
    }
  }
  std::printf(
      "[gradcode conditioning] linear_code<%s> rows (1,0),(1,eps), eps = 1e-1..1e-10: %lld decoded, %lld refused, "
      "%lld beyond the bound; worst accepted error %.3e at eps = %.1e (amplification %.2e)\n",
      gradcode::test::scalar_name<TestType>(), static_cast<long long>(decoded), static_cast<long long>(refused),
      static_cast<long long>(wrong), worst_accepted, worst_eps, worst_amplification);
  INFO("worst accepted relative error " << worst_accepted << " at eps = " << worst_eps << ", amplification "
                                        << worst_amplification << " (accepted up to "
                                        << gradcode::test::error_bound<TestType>() / std::numeric_limits<TestType>::epsilon()
                                        << " = error bound / ε)");
  CHECK(decoded > 0);
  CHECK(refused > 0);
  CHECK(wrong == 0);
  CHECK(worst_accepted <= gradcode::test::error_bound<TestType>());
}

TEST_CASE("linear code: a not_decodable message carries the residual's value when it is just above tolerance",
          "[linear_code][errors]") {
  // With residual_tolerance = 1e-15 the worst responder set of this code (residual ~1e-14, well
  // conditioned) is refused; the message must say how large the residual was, not "0.000000".
  const gradcode::cyclic_mds_code<double> code({.nodes = 12, .partitions = 12, .tolerance = 5}, {.residual_tolerance = 1e-15});
  const auto report = code.verify();
  REQUIRE(report.worst_residual > 1e-15);
  const auto p = pattern::from_ids(12, report.worst_subset);
  INFO("residual " << report.worst_residual << " of responders " << gradcode::test::to_string(report.worst_subset));
  CHECK_FALSE(code.decodable(p));
  try {
    code.plan(p);
    FAIL("plan() accepted a residual above residual_tolerance");
  } catch (const gradcode::not_decodable& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains("residual "));
    CHECK_THAT(e.what(), !Catch::Matchers::Contains("residual 0.000000"));
  }
}

TEST_CASE("linear code: verify() checks the span condition on all C(n, n − s) responder sets", "[linear_code][verify]") {
  const gradcode::cyclic_mds_code<double> code({.nodes = 10, .partitions = 10, .tolerance = 3});
  const auto report = code.verify();
  CHECK(report.satisfied);
  CHECK(report.exhaustive);
  CHECK(report.subsets_checked == 120);  // C(10, 7)
  CHECK(report.worst_residual <= 1e-9);
  CHECK(report.first_failing_subset.empty());
}

TEST_CASE("linear code: copies and moves keep decoding, each with its own cache", "[linear_code]") {
  gradcode::cyclic_repetition_code<double> original({.nodes = 6, .partitions = 6, .tolerance = 2});
  const auto p = pattern::all_except(6, std::vector<Index>{1, 4});
  const auto a = original.plan(p)->coefficients();
  linear_code<double> copy(original);
  CHECK(copy.cached_plans() == 0);
  CHECK(copy.plan(p)->coefficients() == a);
  linear_code<double> moved(std::move(copy));
  CHECK(moved.cached_plans() == 1);
  linear_code<double> assigned = gradcode::fractional_repetition_code<double>({.nodes = 2, .partitions = 2, .tolerance = 0});
  assigned = moved;
  CHECK(assigned.nodes() == 6);
  CHECK(assigned.plan(p)->coefficients() == a);
}

// Regression (issue 13): decode_options were taken unchecked — residual_tolerance = inf let a
// single responder of 8 "decode" (error ≈ 1), NaN or negative values broke every comparison.
TEST_CASE("linear code: decode_options with a NaN, infinite, negative or ≥ 1 field throw invalid_parameters naming the field",
          "[linear_code][errors][options]") {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  const gradcode::cyclic_repetition_params params{.nodes = 8, .partitions = 8, .tolerance = 2};
  for (double bad : {inf, nan, -1e-9, 1.0, 1e9}) {
    INFO("residual_tolerance = " << bad);
    CHECK_THROWS_MATCHES(gradcode::cyclic_repetition_code<double>(params, {.residual_tolerance = bad}),
                         gradcode::invalid_parameters, what_contains("decode_options.residual_tolerance"));
  }
  for (double bad : {inf, nan, 1.0}) {
    INFO("max_relative_error = " << bad);
    CHECK_THROWS_MATCHES(gradcode::cyclic_repetition_code<float>(params, {.max_relative_error = bad}),
                         gradcode::invalid_parameters, what_contains("decode_options.max_relative_error"));
  }
  CHECK_THROWS_AS(linear_code<double>(sum_code_definition(), {.residual_tolerance = inf}), gradcode::invalid_parameters);
  CHECK_THROWS_AS(gradcode::heterogeneous_code<float>({.capacities = {1, 1, 1}, .partitions = 3, .tolerance = 1},
                                                      {.max_relative_error = nan}),
                  gradcode::invalid_parameters);
  // Documented values stay valid: 0 and negative max_relative_error select the default.
  CHECK(gradcode::cyclic_repetition_code<float>(params, {.max_relative_error = -1}).max_relative_error() == 1e-4);
  CHECK_NOTHROW(gradcode::cyclic_repetition_code<double>(params, {.residual_tolerance = 0, .max_relative_error = 0.5}));
  // With the defaults a single responder of 8 is refused, as it must be.
  const gradcode::cyclic_repetition_code<double> code(params);
  const matrix<double> partials = random_matrix<double>(16, 8, 40);
  CHECK_THROWS_AS(code.decode(std::vector<Index>{3}, messages_of(code, partials, {3})), gradcode::not_decodable);
}

// Regression (issue 13): float partials in the subnormal range (|g| < 2^-126) decoded with a
// relative error near 1e-2 and no exception: the 4·ε·amplification estimate assumes relative
// rounding, and below the normal range rounding is absolute.
TEST_CASE("linear code: float decodes of subnormal partials throw invalid_input, never a sum beyond the bound",
          "[linear_code][errors][subnormal]") {
  Index refused = 0, decoded = 0;
  double worst_accepted = 0;
  for (const auto& entry : sample_codes<float>()) {
    const auto& code = entry.second;
    INFO(entry.first);
    matrix<float> partials = random_matrix<float>(256, code.partitions(), 41);
    const matrix<float> unit = partials;
    partials *= 3e-41f;  // subnormal floats with 5–12 significant bits
    const vector<double> exact = partials.cast<double>().rowwise().sum();
    gradcode::test::for_each_subset(code.nodes(), code.tolerance(), [&](const std::vector<Index>& stragglers) {
      const auto ids = pattern::all_except(code.nodes(), stragglers).ids();
      const matrix<float> received = messages_of(code, partials, ids);
      try {
        const vector<float> sum = code.decode(ids, received);
        const double err = (sum.cast<double>() - exact).norm() / exact.norm();
        worst_accepted = std::max(worst_accepted, err);
        ++decoded;
      } catch (const gradcode::invalid_input& e) {
        CHECK_THAT(std::string(e.what()), Catch::Matchers::Contains("too small to be accurate in float"));
        ++refused;
      }
    });
    // The remedy the message names: the same data scaled up by 2^100 decodes on every pattern.
    const matrix<float> scaled = unit * static_cast<float>(std::ldexp(3e-41, 100));
    const auto ids = pattern::all_except(code.nodes(), std::vector<Index>{}).ids();
    const vector<double> scaled_exact = scaled.cast<double>().rowwise().sum();
    CHECK((code.decode(ids, messages_of(code, scaled, ids)).cast<double>() - scaled_exact).norm() <= 1e-4 * scaled_exact.norm());
  }
  INFO(decoded << " subnormal decodes accepted (worst error " << worst_accepted << "), " << refused << " refused");
  CHECK(worst_accepted <= gradcode::test::error_bound<float>());
  CHECK(refused > 0);
}

TEST_CASE("linear code: float partials of 1e-30 (small but normal) still decode on every tolerated pattern",
          "[linear_code][subnormal]") {
  for (const auto& entry : sample_codes<float>()) {
    const auto& code = entry.second;
    INFO(entry.first);
    const matrix<float> partials = random_matrix<float>(256, code.partitions(), 43) * 1e-30f;
    const vector<double> exact = partials.cast<double>().rowwise().sum();
    gradcode::test::for_each_subset(code.nodes(), code.tolerance(), [&](const std::vector<Index>& stragglers) {
      const auto ids = pattern::all_except(code.nodes(), stragglers).ids();
      const vector<float> sum = code.decode(ids, messages_of(code, partials, ids));
      CHECK((sum.cast<double>() - exact).norm() <= 1e-4 * exact.norm());
    });
  }
}

// Regression (issue 13): with `out` aliasing an input the streaming kernel read back partial
// results and returned a wrong message or sum without an error.
TEST_CASE("linear code: encode or decode into a buffer that overlaps its input throws invalid_input", "[linear_code][errors]") {
  const gradcode::cyclic_mds_code<double> code({.nodes = 7, .partitions = 7, .tolerance = 2});
  matrix<double> partials = random_matrix<double>(32, 7, 44);
  CHECK_THROWS_MATCHES(code.encode(0, partials, partials.col(3)), gradcode::invalid_input,
                       what_contains("output overlaps the partial gradients"));
  const std::vector<Index> ids{0, 1, 2, 3, 4};
  matrix<double> received = messages_of(code, partials, ids);
  CHECK_THROWS_MATCHES(code.decode(ids, received, received.col(4)), gradcode::invalid_input,
                       what_contains("output overlaps the messages"));
}

// Regression (issue 13): the returning overloads allocated d elements before checking anything,
// so an Eigen::Map with a bogus row count (no columns, so no memory behind it) threw
// std::bad_alloc instead of the typed error the in-place overload gives.
TEST_CASE("linear code: the returning encode and decode validate before allocating the d-element result",
          "[linear_code][errors]") {
  const gradcode::cyclic_repetition_code<float> code({.nodes = 5, .partitions = 5, .tolerance = 1});
  float dummy = 0;
  const Eigen::Map<const matrix<float>> lying(&dummy, Index{1} << 40, 0);  // 2^40 rows, no columns
  CHECK_THROWS_MATCHES(code.encode(2, lying), gradcode::invalid_input, what_contains("partials have 0 columns"));
  CHECK_THROWS_AS(code.encode(9, lying), gradcode::invalid_input);
  CHECK_THROWS_MATCHES(code.decode(std::vector<Index>{}, lying), gradcode::not_decodable,
                       what_contains("0 of 5 nodes responded"));
  CHECK_THROWS_MATCHES(code.decode(std::vector<Index>{1}, lying), gradcode::invalid_input,
                       what_contains("1 node ids for 0 messages"));
}

// Regression (issue 13): K = 1e9 or n near 2^40 allocated supports and dense solves before any
// check (std::bad_alloc after a long attempt); K = 2^62 overflowed K(s+1). Since issue 16 a banded
// code may exceed max_dense_entries (sparse_decoding_solver_test.cpp builds one at n = 10^4); an
// unbanded one is refused (below).
TEST_CASE("codes: sizes past limits::max_partitions or max_support_entries throw invalid_parameters before allocating",
          "[linear_code][errors][limits]") {
  const Index huge = Index{1} << 62;
  CHECK_THROWS_MATCHES(gradcode::cyclic_repetition_code<double>({.nodes = 4, .partitions = 1'000'000'000, .tolerance = 1}),
                       gradcode::invalid_parameters, what_contains("exceeds limits::max_partitions"));
  CHECK_THROWS_MATCHES(gradcode::cyclic_repetition_code<double>({.nodes = 8, .partitions = Index{1} << 24, .tolerance = 7}),
                       gradcode::invalid_parameters, what_contains("exceeds limits::max_support_entries"));
  CHECK_THROWS_AS(gradcode::cyclic_mds_code<double>({.nodes = 5, .partitions = huge, .tolerance = 2}),
                  gradcode::invalid_parameters);
  CHECK_THROWS_MATCHES(
      gradcode::fractional_repetition_code<double>({.nodes = Index{1} << 40, .partitions = 1, .tolerance = (Index{1} << 40) - 1}),
      gradcode::invalid_parameters, what_contains("exceeds limits::max_nodes"));
  CHECK_THROWS_MATCHES(gradcode::fractional_repetition_code<float>({.nodes = 4, .partitions = 1'000'000'000, .tolerance = 1}),
                       gradcode::invalid_parameters, what_contains("limits::max_partitions"));
  CHECK_THROWS_MATCHES(gradcode::heterogeneous_code<double>({.capacities = {1, 1, 1}, .partitions = huge, .tolerance = 2}),
                       gradcode::invalid_parameters, what_contains("limits::max_partitions"));
  CHECK_THROWS_MATCHES(gradcode::heterogeneous_code<double>(
                           {.capacities = std::vector<double>(64, 1.0), .partitions = Index{1} << 24, .tolerance = 7}),
                       gradcode::invalid_parameters, what_contains("K(s+1) = 16777216 · 8 partition copies exceeds"));
  // Inside the limits the same codes build.
  CHECK(gradcode::heterogeneous_code<double>({.capacities = {1, 1, 1}, .partitions = 1000, .tolerance = 2}).partitions() == 1000);
}

// A dense f × K solve past max_dense_entries would need > 0.5 GB; a B without band structure (each
// partition on s + 1 random nodes) has no sparse solve in that limit either.
TEST_CASE("codes: an unbanded code past limits::max_dense_entries throws invalid_parameters naming the band",
          "[linear_code][errors][limits]") {
  const Index n = 10'000, s = 2;
  std::mt19937_64 rng(gradcode::test::test_seed(1604));
  std::vector<std::vector<Index>> holdings(static_cast<std::size_t>(n));
  for (Index k = 0; k < n; ++k) {
    std::vector<Index> chosen;
    while (static_cast<Index>(chosen.size()) < s + 1) {
      const Index i = std::uniform_int_distribution<Index>(0, n - 1)(rng);
      if (std::find(chosen.begin(), chosen.end(), i) == chosen.end()) chosen.push_back(i);
    }
    for (const Index i : chosen) holdings[static_cast<std::size_t>(i)].push_back(k);
  }
  gradcode::assignment random_support(n, std::move(holdings));
  CHECK_THROWS_MATCHES(gradcode::heterogeneous_code<double>(std::move(random_support), s), gradcode::invalid_parameters,
                       what_contains("exceeds limits::max_dense_entries") && what_contains("B has no band for the sparse solve"));
}

// Regression (issue 13): a moved-from code had a null plan cache, and decodable()/decode() on it
// dereferenced it. It now refuses like an empty code (0 nodes), and the moved-to code decodes.
TEST_CASE("linear code: a moved-from code refuses with typed errors instead of crashing, and the moved-to code decodes",
          "[linear_code][errors]") {
  gradcode::cyclic_repetition_code<double> from({.nodes = 5, .partitions = 5, .tolerance = 1});
  const linear_code<double> to(std::move(from));
  const linear_code<double>& moved = from;  // NOLINT(bugprone-use-after-move): what this test is about
  const matrix<double> messages = matrix<double>::Ones(3, 4);
  const std::vector<Index> ids{0, 1, 2, 3};
  vector<double> out = vector<double>::Constant(3, 7.0);
  CHECK_FALSE(moved.decodable(pattern::from_ids(5, ids)));
  CHECK_THROWS_AS(moved.decode(ids, messages, out), gradcode::invalid_input);
  CHECK((out.array() == 7.0).all());
  CHECK(moved.cached_plans() == 0);
  CHECK(to.decodable(pattern::from_ids(5, ids)));
  CHECK(to.decode(ids, messages, out).used == ids);
}
