// SPDX-License-Identifier: MIT
// Reed–Solomon codes over R and C for vector messages (include/gradcode/robust/reed_solomon.hpp):
// decode returns p(β_1..β_m) from every straggler pattern, locates every adversary placement
// and reports it, handles odd output lengths and odd column strides, treats non-finite messages
// as corrupted, caches interpolation plans, and throws the typed errors. The fast GEMM path is
// checked against a plain dense oracle (Σ_j D_lj y_j in std::complex<double>).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <gradcode/core/errors.hpp>
#include <gradcode/robust/evaluation_points.hpp>
#include <gradcode/robust/reed_solomon.hpp>

#include "test_support.hpp"

using gradcode::corrupted_result;
using gradcode::Index;
using gradcode::invalid_input;
using gradcode::invalid_parameters;
using gradcode::make_evaluation_points;
using gradcode::matrix;
using gradcode::not_decodable;
using gradcode::point_family;
using gradcode::reed_solomon_code;
using gradcode::reed_solomon_params;
using gradcode::robust_options;
using gradcode::robust_report;
using gradcode::vector;
using complex = std::complex<double>;
using gradcode::test::error_bound;
using gradcode::test::for_each_subset_up_to;
using gradcode::test::test_seed;
using gradcode::test::what_contains;

namespace {

/// A random vector polynomial of degree < K (L units), all node messages and the exact target values.
template <class Scalar>
struct rs_data {
  matrix<Scalar> messages;    // message_length × n
  std::vector<double> exact;  // m · message_length reals: [p(β_1); …; p(β_m)]

  rs_data(const reed_solomon_code<Scalar>& code, std::mt19937_64& rng) {
    std::normal_distribution<double> normal;
    const Index w = code.real() ? 1 : 2, units = code.message_length() / w, k = code.dimension();
    gradcode::matrix<complex> coef(units, k);
    for (Index i = 0; i < coef.size(); ++i) coef.data()[i] = w == 1 ? complex(normal(rng), 0) : complex(normal(rng), normal(rng));
    auto eval = [&](complex x, Index u) {
      complex v = 0;
      for (Index t = k - 1; t >= 0; --t) v = v * x + coef(u, t);
      return v;
    };
    messages.resize(code.message_length(), code.nodes());
    for (Index j = 0; j < code.nodes(); ++j)
      for (Index u = 0; u < units; ++u) {
        const complex v = eval(code.node_points()[static_cast<std::size_t>(j)], u);
        messages(w * u, j) = static_cast<Scalar>(v.real());
        if (w == 2) messages(w * u + 1, j) = static_cast<Scalar>(v.imag());
      }
    for (Index l = 0; l < code.targets(); ++l)
      for (Index u = 0; u < units; ++u) {
        const complex v = eval(code.target_points()[static_cast<std::size_t>(l)], u);
        exact.push_back(v.real());
        if (w == 2) exact.push_back(v.imag());
      }
  }

  double error(const vector<Scalar>& out) const {
    double num = 0, den = 0;
    for (Index i = 0; i < out.size(); ++i) {
      num += std::pow(static_cast<double>(out[i]) - exact[static_cast<std::size_t>(i)], 2);
      den += std::pow(exact[static_cast<std::size_t>(i)], 2);
    }
    return std::sqrt(num / den);
  }
};

template <class Scalar>
reed_solomon_code<Scalar> make_code(point_family family, Index n, Index k, Index m, Index length, const robust_options& o = {}) {
  const auto p = make_evaluation_points(family, n, m);
  return reed_solomon_code<Scalar>(reed_solomon_params{p.nodes, p.targets, k, length, !p.real}, o);
}

}  // namespace

TEMPLATE_TEST_CASE(
    "Reed–Solomon: decode recovers p(β) for every pattern of ≤ n − K stragglers (n = 10, K = 6, complex and "
    "real points)",
    "[reed_solomon][exhaustive]", float, double) {
  const auto seed = test_seed(31);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  for (auto family : {point_family::unit_circle, point_family::chebyshev}) {
    const auto code = make_code<TestType>(family, 10, 6, 3, 40);
    const rs_data<TestType> data(code, rng);
    double worst = 0;
    Index patterns = 0;
    for_each_subset_up_to(10, 4, [&](const std::vector<Index>& slow) {
      std::vector<Index> ids;
      for (Index j = 0; j < 10; ++j)
        if (std::find(slow.begin(), slow.end(), j) == slow.end()) ids.push_back(j);
      matrix<TestType> received(40, static_cast<Index>(ids.size()));
      for (std::size_t t = 0; t < ids.size(); ++t) received.col(static_cast<Index>(t)) = data.messages.col(ids[t]);
      vector<TestType> out(code.output_length());
      const auto report = code.decode(ids, received, out);
      INFO(to_string(family) << " stragglers " << ::Catch::Detail::stringify(slow));
      CHECK(report.corrupted.empty());
      CHECK(report.used == ids);
      worst = std::max(worst, data.error(out));
      ++patterns;
    });
    std::printf("Reed–Solomon %s <%s>: %ld straggler patterns, worst relative error %.2e\n", to_string(family).c_str(),
                std::is_same_v<TestType, float> ? "float" : "double", static_cast<long>(patterns), worst);
    CHECK(worst <= error_bound<TestType>());
  }
}

TEMPLATE_TEST_CASE(
    "Reed–Solomon: every placement of ≤ s stragglers and ≤ a adversaries (n = 9, K = 4, s = 1, a = 2) is "
    "decoded and the adversaries are reported",
    "[reed_solomon][exhaustive][adversary]", float, double) {
  const auto seed = test_seed(32);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  const Index n = 9, k = 4;
  const auto code = make_code<TestType>(point_family::unit_circle, n, k, 2, 64);
  const rs_data<TestType> data(code, rng);
  double worst = 0;
  Index placements = 0;
  for_each_subset_up_to(n, 1, [&](const std::vector<Index>& slow) {
    std::vector<Index> live;
    for (Index j = 0; j < n; ++j)
      if (std::find(slow.begin(), slow.end(), j) == slow.end()) live.push_back(j);
    for_each_subset_up_to(static_cast<Index>(live.size()), 2, [&](const std::vector<Index>& bad_pos) {
      for (int kind = 0; kind < 2; ++kind) {
        matrix<TestType> received(64, static_cast<Index>(live.size()));
        for (std::size_t t = 0; t < live.size(); ++t) received.col(static_cast<Index>(t)) = data.messages.col(live[t]);
        std::vector<Index> bad;
        for (Index p : bad_pos) {
          bad.push_back(live[static_cast<std::size_t>(p)]);
          auto col = received.col(p);
          for (Index i = 0; i < col.size(); ++i)
            col[i] = kind == 0
                         ? static_cast<TestType>(1e6 * normal(rng))
                         : static_cast<TestType>(col[i] * (1 + (std::is_same_v<TestType, float> ? 1e-3 : 1e-6) * normal(rng)));
        }
        std::sort(bad.begin(), bad.end());
        vector<TestType> out(code.output_length());
        INFO("stragglers " << ::Catch::Detail::stringify(slow) << " adversaries " << ::Catch::Detail::stringify(bad)
                           << (kind == 0 ? " (random large)" : " (subtly perturbed)"));
        const auto report = code.decode(live, received, out);
        CHECK(report.corrupted == bad);
        CHECK(report.checked);
        worst = std::max(worst, data.error(out));
        ++placements;
      }
    });
  });
  std::printf("Reed–Solomon adversaries <%s>: %ld placements, all located, worst relative error %.2e\n",
              std::is_same_v<TestType, float> ? "float" : "double", static_cast<long>(placements), worst);
  CHECK(worst <= error_bound<TestType>());
}

TEST_CASE(
    "Reed–Solomon: the GEMM path matches a plain dense oracle for odd output lengths, odd column strides and "
    "any column order",
    "[reed_solomon][random]") {
  std::mt19937_64 rng(33);
  const auto code = make_code<double>(point_family::unit_circle, 7, 4, 3, 10);
  const rs_data<double> data(code, rng);
  // responders in scrambled order, inside a matrix with an odd column stride (11 rows, 10 used)
  const std::vector<Index> ids{5, 0, 3, 6, 1};
  matrix<double> big(11, 5);
  for (std::size_t t = 0; t < ids.size(); ++t) big.col(static_cast<Index>(t)).head(10) = data.messages.col(ids[t]);
  const Eigen::Ref<const matrix<double>> received = big.topRows(10);
  REQUIRE(received.outerStride() == 11);
  for (Index len : {Index{1}, Index{9}, Index{10}, Index{17}, Index{29}, Index{30}}) {
    vector<double> out(len);
    const auto report = code.decode(ids, received, out);
    CHECK(report.corrupted.empty());
    double err = 0;
    for (Index i = 0; i < len; ++i) err = std::max(err, std::abs(out[i] - data.exact[static_cast<std::size_t>(i)]));
    INFO("output length " << len);
    CHECK(err < 1e-12);
  }
}

TEST_CASE(
    "Reed–Solomon: a non-finite message is located as corrupted when redundancy allows, else corrupted_result — with "
    "locate_corrupted off it is invalid_input naming the node",
    "[reed_solomon][adversary][errors]") {
  std::mt19937_64 rng(34);
  const auto code = make_code<double>(point_family::unit_circle, 6, 4, 2, 8);
  const rs_data<double> data(code, rng);
  matrix<double> received = data.messages;
  received(3, 2) = std::nan("");
  const std::vector<Index> all{0, 1, 2, 3, 4, 5};
  vector<double> out(code.output_length());
  const auto report = code.decode(all, received, out);
  CHECK(report.corrupted == std::vector<Index>{2});
  CHECK(data.error(out) < 1e-12);
  const std::vector<Index> four{0, 1, 2, 3};
  CHECK_THROWS_MATCHES(code.decode(four, received.leftCols(4), out), corrupted_result, what_contains("node 2 is not finite"));
  robust_options trusting;
  trusting.locate_corrupted = false;
  const auto plain = make_code<double>(point_family::unit_circle, 6, 4, 2, 8, trusting);
  CHECK_THROWS_MATCHES(plain.decode(all, received, out), invalid_input, what_contains("node 2 is not finite"));
}

TEST_CASE("Reed–Solomon: honest rounding at N = 32 stays far below the default corruption tolerance (double and float)",
          "[reed_solomon][random]") {
  std::mt19937_64 rng(35);
  double worst_double = 0, worst_float = 0;
  for (Index k : {8, 16, 24, 30}) {
    const auto cd = make_code<double>(point_family::unit_circle, 32, k, 4, 256);
    const auto cf = make_code<float>(point_family::unit_circle, 32, k, 4, 256);
    std::vector<Index> all(32);
    std::iota(all.begin(), all.end(), Index{0});
    const rs_data<double> dd(cd, rng);
    const rs_data<float> df(cf, rng);
    worst_double = std::max(worst_double, cd.locate(all, dd.messages).residual);
    worst_float = std::max(worst_float, cf.locate(all, df.messages).residual);
  }
  std::printf("honest parity residual at N = 32: double %.1e (tolerance %.0e), float %.1e (tolerance %.0e)\n", worst_double,
              gradcode::detail::default_corruption_tolerance<double>(), worst_float,
              gradcode::detail::default_corruption_tolerance<float>());
  CHECK(worst_double * 15 < gradcode::detail::default_corruption_tolerance<double>());
  CHECK(worst_float * 5 < gradcode::detail::default_corruption_tolerance<float>());
}

TEMPLATE_TEST_CASE(
    "Reed–Solomon: a corruption just below the tolerance is not located and moves the result by at most "
    "τ × amplification; just above it is located",
    "[reed_solomon][adversary][random]", float, double) {
  std::mt19937_64 rng(37);
  std::normal_distribution<double> normal;
  const double tau = gradcode::detail::default_corruption_tolerance<TestType>();
  const auto code = make_code<TestType>(point_family::unit_circle, 32, 24, 6, 512);
  const rs_data<TestType> data(code, rng);
  std::vector<Index> all(32);
  std::iota(all.begin(), all.end(), Index{0});
  double worst_below = 0, amplification = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const Index victim = static_cast<Index>(rng() % 32);
    matrix<TestType> received = data.messages;
    // a perturbation of relative size 0.3τ / 30τ of the whole message set, all on one node
    const double total = data.messages.template cast<double>().norm();
    vector<double> e(received.rows());
    for (Index i = 0; i < e.size(); ++i) e[i] = normal(rng);
    e *= total / e.norm();
    for (double factor : {0.3, 30.0}) {
      matrix<TestType> r = received;
      r.col(victim) += (factor * tau * e).template cast<TestType>();
      vector<TestType> out(code.output_length());
      const auto report = code.decode(all, r, out);
      INFO("trial " << trial << " victim " << victim << " perturbation " << factor << "·τ");
      if (factor < 1) {
        CHECK(report.corrupted.empty());
        worst_below = std::max(worst_below, data.error(out));
        amplification = std::max(amplification, report.amplification);
      } else {
        CHECK(report.corrupted == std::vector<Index>{victim});
      }
    }
  }
  std::printf("below-tolerance corruption <%s>: worst relative error %.1e, τ·amplification %.1e\n",
              std::is_same_v<TestType, float> ? "float" : "double", worst_below, tau * amplification);
  CHECK(worst_below <= tau * amplification);
}

TEST_CASE("Reed–Solomon: interpolation plans are cached per kept set and reused", "[reed_solomon]") {
  std::mt19937_64 rng(36);
  const auto code = make_code<double>(point_family::unit_circle, 8, 5, 2, 4);
  const rs_data<double> data(code, rng);
  const std::vector<Index> ids{0, 1, 2, 3, 4, 5, 6, 7};
  vector<double> out(code.output_length());
  code.decode(ids, data.messages, out);
  code.decode(ids, data.messages, out);
  CHECK(code.cached_plans() == 1);
  const std::vector<Index> other{0, 1, 2, 3, 4};
  code.decode(other, data.messages.leftCols(5), out);
  CHECK(code.cached_plans() == 2);
}

TEST_CASE(
    "Reed–Solomon: fewer than K messages is not_decodable with the counts — bad shapes, ids and parameters are typed "
    "errors",
    "[reed_solomon][errors]") {
  const auto code = make_code<double>(point_family::unit_circle, 6, 4, 2, 8);
  matrix<double> msgs = matrix<double>::Zero(8, 3);
  vector<double> out(16);
  const std::vector<Index> three{0, 1, 2};
  CHECK_THROWS_MATCHES(code.decode(three, msgs, out), not_decodable, what_contains("3 of 6 messages received, 4 needed"));
  try {
    code.decode(three, msgs, out);
  } catch (const not_decodable& e) {
    CHECK(e.received() == 3);
    CHECK(e.needed() == 4);
  }
  const std::vector<Index> dup{0, 1, 1, 2};
  matrix<double> four = matrix<double>::Zero(8, 4);
  CHECK_THROWS_MATCHES(code.decode(dup, four, out), invalid_input, what_contains("appears twice"));
  const std::vector<Index> range{0, 1, 2, 9};
  CHECK_THROWS_AS(code.decode(range, four, out), invalid_input);
  matrix<double> wrong = matrix<double>::Zero(7, 4);
  const std::vector<Index> ok{0, 1, 2, 3};
  CHECK_THROWS_MATCHES(code.decode(ok, wrong, out), invalid_input, what_contains("messages have length 7"));
  vector<double> too_long(17);
  CHECK_THROWS_AS(code.decode(ok, four, too_long), invalid_input);
  const auto p = make_evaluation_points(point_family::unit_circle, 6, 2);
  CHECK_THROWS_MATCHES(reed_solomon_code<double>(reed_solomon_params{p.nodes, p.targets, 4, 7, true}), invalid_parameters,
                       what_contains("must be even"));
  CHECK_THROWS_AS(reed_solomon_code<double>(reed_solomon_params{p.nodes, p.targets, 7, 8, true}), invalid_parameters);
  auto clash = p.targets;
  clash[0] = p.nodes[3];
  CHECK_THROWS_MATCHES(reed_solomon_code<double>(reed_solomon_params{p.nodes, clash, 4, 8, true}), invalid_parameters,
                       what_contains("coincide"));
}

// =============================================================================================
// Hostile inputs (issue 13): extreme magnitudes, option values, the rounding check, sizes
// =============================================================================================

TEMPLATE_TEST_CASE(
    "Reed–Solomon: one node sending a huge finite message (1e155 to 1e300 in double, 1e30 to 3e38 in float) "
    "is located and excluded — the result stays within the error bound",
    "[reed_solomon][adversary]", float, double) {
  // Before: ‖z‖² overflowed, the parity residual was NaN and counted as consistent — nobody was
  // excluded and the result was off by the corruption (1e154 and more).
  std::mt19937_64 rng(38);
  std::normal_distribution<double> normal;
  const auto code = make_code<TestType>(point_family::unit_circle, 10, 6, 3, 64);
  const rs_data<TestType> data(code, rng);
  std::vector<Index> all(10);
  std::iota(all.begin(), all.end(), Index{0});
  const std::vector<double> sizes =
      std::is_same_v<TestType, float> ? std::vector<double>{1e30, 1e36, 3e38} : std::vector<double>{1e155, 1e200, 1e300, 1e307};
  double worst = 0;
  for (double size : sizes)
    for (int where = 0; where < 2; ++where)  // every element, or one element
      for (Index victim : {Index{0}, Index{4}, Index{9}}) {
        matrix<TestType> r = data.messages;
        for (Index i = 0; i < r.rows(); ++i)
          if (where == 0 || i == 17)
            r(i, victim) =
                static_cast<TestType>(size * (normal(rng) > 0 ? 1 : -1) * (0.5 + std::min(std::abs(normal(rng)) / 8, 0.5)));
        REQUIRE(r.allFinite());
        vector<TestType> out(code.output_length());
        INFO("node " << victim << " sends ~" << size << (where == 0 ? " in every element" : " in element 17"));
        const auto report = code.decode(all, r, out);
        CHECK(report.corrupted == std::vector<Index>{victim});
        CHECK(std::isfinite(report.residual));
        const double err = data.error(out);
        CHECK(err <= error_bound<TestType>());
        worst = std::max(worst, err);
      }
  std::printf("huge adversarial message <%s>: all located, worst relative error %.2e\n",
              std::is_same_v<TestType, float> ? "float" : "double", worst);
}

TEMPLATE_TEST_CASE(
    "Reed–Solomon: messages of tiny normal magnitude (1e-165 and 1e-300 in double, 1e-30 in float) decode "
    "exactly and a 1e-3 relative corruption among them is located",
    "[reed_solomon][adversary]", float, double) {
  // Before: squared norms underflowed to 0, every set looked consistent, the corruption stayed in.
  std::mt19937_64 rng(39);
  std::normal_distribution<double> normal;
  const auto code = make_code<TestType>(point_family::unit_circle, 10, 6, 3, 64);
  const rs_data<TestType> base(code, rng);
  std::vector<Index> all(10);
  std::iota(all.begin(), all.end(), Index{0});
  const std::vector<double> scales =
      std::is_same_v<TestType, float> ? std::vector<double>{1e-30} : std::vector<double>{1e-165, 1e-300};
  double worst = 0;
  for (double scale : scales)
    for (Index victim : {Index{-1}, Index{2}, Index{7}}) {
      matrix<TestType> r = (base.messages.template cast<double>() * scale).template cast<TestType>();
      const double top = r.template cast<double>().cwiseAbs().maxCoeff();
      if (victim >= 0)
        for (Index i = 0; i < r.rows(); ++i) r(i, victim) += static_cast<TestType>(1e-3 * top * normal(rng));
      vector<TestType> out(code.output_length());
      INFO("messages ~" << scale
                        << (victim >= 0 ? ", node " + std::to_string(victim) + " corrupted by 1e-3" : std::string(", honest")));
      const auto report = code.decode(all, r, out);
      CHECK(report.corrupted == (victim >= 0 ? std::vector<Index>{victim} : std::vector<Index>{}));
      // error relative to the exact values scaled alike (squares of 1e-300 would underflow)
      double num = 0, den = 0;
      for (Index i = 0; i < out.size(); ++i) {
        num = std::max(num, std::abs(static_cast<double>(out[i]) / scale - base.exact[static_cast<std::size_t>(i)]));
        den = std::max(den, std::abs(base.exact[static_cast<std::size_t>(i)]));
      }
      CHECK(num / den <= 10 * error_bound<TestType>());
      worst = std::max(worst, num / den);
    }
  std::printf("tiny messages <%s>: worst max-norm relative error %.2e\n", std::is_same_v<TestType, float> ? "float" : "double",
              worst);
}

TEST_CASE(
    "Reed–Solomon: robust_options outside their range (τ inf, NaN, negative or 1, max_amplification and "
    "max_relative_error not finite or negative, P outside 1..8) throw invalid_parameters naming the field",
    "[reed_solomon][errors]") {
  // Before: corruption_tolerance = inf (or NaN) was accepted and no corrupted node was ever located.
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  auto with = [](auto set) {
    robust_options o;
    set(o);
    return o;
  };
  for (double tau : {inf, nan, -1e-9, 1.0}) {
    INFO("corruption_tolerance = " << tau);
    CHECK_THROWS_MATCHES(
        make_code<double>(point_family::unit_circle, 6, 4, 2, 8, with([&](robust_options& o) { o.corruption_tolerance = tau; })),
        invalid_parameters, what_contains("robust_options::corruption_tolerance"));
  }
  for (double a : {inf, nan, 0.0, -1.0}) {
    INFO("max_amplification = " << a);
    CHECK_THROWS_MATCHES(
        make_code<double>(point_family::unit_circle, 6, 4, 2, 8, with([&](robust_options& o) { o.max_amplification = a; })),
        invalid_parameters, what_contains("robust_options::max_amplification"));
  }
  for (double e : {inf, nan, -1e-9}) {
    INFO("max_relative_error = " << e);
    CHECK_THROWS_MATCHES(
        make_code<float>(point_family::unit_circle, 6, 4, 2, 8, with([&](robust_options& o) { o.max_relative_error = e; })),
        invalid_parameters, what_contains("robust_options::max_relative_error"));
  }
  for (Index p : {Index{0}, Index{9}, Index{-3}})
    CHECK_THROWS_MATCHES(
        make_code<double>(point_family::unit_circle, 6, 4, 2, 8, with([&](robust_options& o) { o.projections = p; })),
        invalid_parameters, what_contains("robust_options::projections"));
  // τ is unused when nothing is located: any finite value >= 0 passes then
  CHECK_NOTHROW(make_code<double>(point_family::unit_circle, 6, 4, 2, 8, with([](robust_options& o) {
                                    o.locate_corrupted = false;
                                    o.corruption_tolerance = 1e300;
                                  })));
  CHECK(make_code<double>(point_family::unit_circle, 6, 4, 2, 8).options().corruption_tolerance ==
        gradcode::detail::default_corruption_tolerance<double>());
  CHECK(make_code<float>(point_family::unit_circle, 6, 4, 2, 8).max_relative_error() == 1e-4);
  CHECK(make_code<double>(point_family::unit_circle, 6, 4, 2, 8).max_relative_error() == 1e-9);
}

TEST_CASE(
    "Reed–Solomon: a refused decode (non-finite message without redundancy, estimated error over the budget) leaves "
    "out untouched",
    "[reed_solomon][errors]") {
  // Before: the non-finite message was detected only after `out` had been overwritten.
  std::mt19937_64 rng(40);
  const auto code = make_code<double>(point_family::unit_circle, 6, 4, 2, 8);
  const rs_data<double> data(code, rng);
  matrix<double> received = data.messages;
  received(5, 1) = std::numeric_limits<double>::infinity();
  const std::vector<Index> four{0, 1, 2, 3};
  vector<double> out = vector<double>::Constant(code.output_length(), 7.0);
  CHECK_THROWS_MATCHES(code.decode(four, received.leftCols(4), out), corrupted_result, what_contains("node 1 is not finite"));
  CHECK((out.array() == 7.0).all());
  robust_options trusting;
  trusting.locate_corrupted = false;
  const auto plain = make_code<double>(point_family::unit_circle, 6, 4, 2, 8, trusting);
  const std::vector<Index> all{0, 1, 2, 3, 4, 5};
  CHECK_THROWS_MATCHES(plain.decode(all, received, out), invalid_input, what_contains("node 1 is not finite"));
  CHECK((out.array() == 7.0).all());
  // interpolate() alone checks the messages it uses too
  CHECK_THROWS_AS(code.interpolate(all, received, four, out), corrupted_result);
  CHECK((out.array() == 7.0).all());
}

TEST_CASE(
    "Reed–Solomon: with max_relative_error set, a kept set whose estimated error ε·A exceeds it is "
    "not_decodable with the numbers, out untouched — with a larger budget it decodes",
    "[reed_solomon][errors]") {
  // The paper's integer points at n = 20, K = 18 (targets 0, −1: extrapolation): a Lebesgue
  // constant under the 1e8 cap, an error amplification above the 1e-9 / ε ≈ 4.5e6 that double
  // accuracy allows.
  std::mt19937_64 rng(41);
  const Index n = 20, k = 18;
  robust_options strict;
  strict.max_relative_error = 1e-9;
  const auto code = make_code<double>(point_family::paper, n, k, 2, 4, strict);
  CHECK(code.checks_error());
  CHECK_FALSE(make_code<double>(point_family::paper, n, k, 2, 4).checks_error());  // standalone default: the Lebesgue cap only
  const rs_data<double> data(code, rng);
  std::vector<Index> all(static_cast<std::size_t>(n));
  std::iota(all.begin(), all.end(), Index{0});
  const std::vector<Index> first(all.begin(), all.begin() + k);  // no redundancy: nothing located
  vector<double> out = vector<double>::Constant(code.output_length(), 7.0);
  CHECK_THROWS_MATCHES(code.decode(first, data.messages.leftCols(k), out), not_decodable,
                       what_contains("estimated relative error"));
  CHECK((out.array() == 7.0).all());
  try {
    code.decode(first, data.messages.leftCols(k), out);
  } catch (const not_decodable& e) {
    CHECK(e.received() == static_cast<std::size_t>(k));
    CHECK(e.needed() == static_cast<std::size_t>(k));
  }
  robust_options loose;
  loose.max_relative_error = 1e-2;
  const auto relaxed = make_code<double>(point_family::paper, n, k, 2, 4, loose);
  const auto report = relaxed.decode(first, data.messages.leftCols(k), out);
  std::printf("paper points n = %ld, K = %ld: Lebesgue constant %.1e, error amplification %.1e, estimated error %.1e\n",
              static_cast<long>(n), static_cast<long>(k), report.amplification, report.error_amplification,
              report.estimated_error);
  CHECK(report.estimated_error == Approx(std::numeric_limits<double>::epsilon() * report.error_amplification));
  CHECK(report.estimated_error > 1e-9);
  CHECK(report.amplification < 1e8);  // the Lebesgue cap alone let this through
}

TEST_CASE("Reed–Solomon: node scales and input amplifications enter the estimate — bad counts and values are typed errors",
          "[reed_solomon][errors]") {
  std::mt19937_64 rng(42);
  const auto p = make_evaluation_points(point_family::unit_circle, 6, 2);
  reed_solomon_params params{p.nodes, p.targets, 4, 8, true};
  const reed_solomon_code<double> unit(params);
  params.node_scales = {2, 2, 2, 2, 2, 2};
  params.target_scale = 4;
  const reed_solomon_code<double> halved(params);
  const rs_data<double> data(unit, rng);
  const std::vector<Index> all{0, 1, 2, 3, 4, 5};
  vector<double> out(unit.output_length());
  const auto plain = unit.decode(all, data.messages, out);
  const auto scaled = halved.decode(all, data.messages, out);
  CHECK(scaled.amplification == Approx(plain.amplification));                  // the Lebesgue constant does not see the scales
  CHECK(scaled.error_amplification == Approx(plain.error_amplification / 2));  // w/t halved
  CHECK(halved.checks_error());
  CHECK_FALSE(unit.checks_error());
  const std::vector<double> carried{3, 3, 3, 3, 3, 3}, one{1, 1, 3, 1, 1, 1};
  const double with_all = unit.decode(all, data.messages, out, carried).error_amplification;
  CHECK(with_all > plain.error_amplification);
  CHECK(with_all <= 3 * plain.error_amplification);
  const double with_one = unit.decode(all, data.messages, out, one).error_amplification;
  CHECK(with_one >= plain.error_amplification);
  CHECK(with_one <= with_all);
  const std::vector<double> too_few{1, 1};
  CHECK_THROWS_MATCHES(unit.decode(all, data.messages, out, too_few), invalid_input,
                       what_contains("2 input amplifications for 6"));
  const std::vector<double> nan_one{1, 1, 1, std::nan(""), 1, 1};
  CHECK_THROWS_MATCHES(unit.decode(all, data.messages, out, nan_one), invalid_input,
                       what_contains("input amplification of node 3"));
  params.node_scales = {1, 1, 1};
  CHECK_THROWS_MATCHES(reed_solomon_code<double>(params), invalid_parameters, what_contains("3 node scales for n = 6"));
  params.node_scales = {1, 1, -1, 1, 1, 1};
  CHECK_THROWS_MATCHES(reed_solomon_code<double>(params), invalid_parameters, what_contains("node scale 2"));
  params.node_scales = {};
  params.target_scale = 0;
  CHECK_THROWS_MATCHES(reed_solomon_code<double>(params), invalid_parameters, what_contains("target scale"));
}

TEST_CASE(
    "Reed–Solomon: sizes are checked before allocating — a message length above 2^40 or more than 1024 nodes is "
    "invalid_parameters, not bad_alloc",
    "[reed_solomon][errors]") {
  // Before: a 2^41-real message tried to allocate the 2^41 × 3 projection matrix (std::bad_alloc).
  const auto p = make_evaluation_points(point_family::unit_circle, 6, 2);
  CHECK_THROWS_MATCHES(reed_solomon_code<double>(reed_solomon_params{p.nodes, p.targets, 4, Index{1} << 41, true}),
                       invalid_parameters, what_contains("> 2^40 reals"));
  CHECK_THROWS_MATCHES(
      reed_solomon_code<double>(reed_solomon_params{p.nodes, p.targets, 4, std::numeric_limits<Index>::max() - 1, true}),
      invalid_parameters, what_contains("> 2^40 reals"));
  std::vector<complex> many(1025);
  for (std::size_t j = 0; j < many.size(); ++j) many[j] = complex(static_cast<double>(j), 0.5);
  CHECK_THROWS_MATCHES(reed_solomon_code<double>(reed_solomon_params{many, {complex(-1, 0)}, 4, 8}), invalid_parameters,
                       what_contains("need n <= 1024"));
  CHECK_THROWS_MATCHES(make_evaluation_points(point_family::unit_circle, 1025, 1), invalid_parameters,
                       what_contains("need N <= 1024"));
}
