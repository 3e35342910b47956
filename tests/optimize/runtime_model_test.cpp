// SPDX-License-Identifier: MIT
// Runtime model of tang2024 §IV-A (include/gradcode/optimize/runtime_model.hpp, eqs. 28–33, 43):
// the means A_i and B_(i,j), the sampler against them (and against the spec §1.4 variances), the
// nested order statistics of hierarchical_time on a hand-made sample, and validate()'s errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <gradcode/core/errors.hpp>
#include <gradcode/optimize/presets.hpp>
#include <gradcode/optimize/runtime_model.hpp>

#include "test_support.hpp"

using Catch::Matchers::Contains;
using gradcode::Index;
using gradcode::invalid_parameters;
using gradcode::iteration_sample;
using gradcode::runtime_model;
using gradcode::tang2024_setting;
using gradcode::tang2024_workload;

namespace {
using gradcode::test::test_seed;
}  // namespace

TEST_CASE("runtime model: A_i = τ_i/(1 − p_i) and B_(i,j) = c D + 1/γ + 2τ_(i,j)/(1 − p_(i,j)) + A_i (eq. 43) on the §V preset",
          "[runtime_model][kat]") {
  const auto model = tang2024_setting(tang2024_workload::mnist);
  CHECK(model.edge_count() == 4);
  CHECK(model.total_workers() == 40);
  CHECK(model.mean_edge_upload(0) == Approx(500.0 / 9));  // spec §4.1: 55.556, 111.111, 111.111, 625
  CHECK(model.mean_edge_upload(1) == Approx(1000.0 / 9));
  CHECK(model.mean_edge_upload(2) == Approx(1000.0 / 9));
  CHECK(model.mean_edge_upload(3) == Approx(625.0));
  // D = 12: Type I 120 + 10 + 1000/9 + A_i; Type II 120 + 10 + 400; Type III 600 + 100 + 1000/9;
  // Type IV 600 + 100 + 400 (spec §3.2 / §3.4).
  for (Index i = 0; i < 4; ++i) {
    const double a = model.mean_edge_upload(i);
    CHECK(model.mean_worker_time(i, 0, 12) == Approx(130 + 1000.0 / 9 + a));
    CHECK(model.mean_worker_time(i, 5, 12) == Approx(530 + a));
    CHECK(model.mean_worker_time(i, 7, 12) == Approx(700 + 1000.0 / 9 + a));
    CHECK(model.mean_worker_time(i, 9, 12) == Approx(1100 + a));
  }
  // D enters only the deterministic shift, linearly (fractional D allowed).
  const auto cifar = tang2024_setting(tang2024_workload::cifar10);
  CHECK(cifar.mean_worker_time(2, 8, 2.5) - cifar.mean_worker_time(2, 8, 0.5) == Approx(500 * 2.0));
}

TEST_CASE(
    "runtime model: sampled node times average to A_i and B_(i,j) (eq. 43) within 5 standard errors (48 nodes at once), with the "
    "spec §1.4 variances",
    "[runtime_model][statistical]") {
  const auto seed = test_seed(17);
  std::mt19937_64 rng(seed);
  const auto model = tang2024_setting(tang2024_workload::mnist);
  const double load = 3.5;
  const Index samples = 40000;
  std::vector<double> sum(40), square(40), up(4), up2(4), down(4), down2(4);
  for (Index s = 0; s < samples; ++s) {
    const auto x = gradcode::sample_iteration(model, load, rng);
    for (std::size_t i = 0; i < 4; ++i) {
      up[i] += x.edge_upload[i];
      up2[i] += x.edge_upload[i] * x.edge_upload[i];
      down[i] += x.edge_download[i];
      down2[i] += x.edge_download[i] * x.edge_download[i];
      for (std::size_t j = 0; j < 10; ++j) {
        const double t = x.worker_arrival[i][j];
        sum[10 * i + j] += t;
        square[10 * i + j] += t * t;
      }
    }
  }
  const auto n = static_cast<double>(samples);
  // 48 means are checked together: 5 standard errors per node keeps the family-wise false-alarm
  // rate (≈ 3e-5) at that of a single 4-SE check, also under --rng-seed.
  auto check_mean = [&](double s, double s2, double expected, double variance) {
    const double mean = s / n, var = s2 / n - mean * mean;
    CHECK(std::abs(mean - expected) <= 5 * std::sqrt(var / n));
    CHECK(var == Approx(variance).epsilon(0.1));  // heavy-ish tails: 10 % at 4e4 samples
  };
  for (Index i = 0; i < 4; ++i) {
    const auto& e = model.edges[static_cast<std::size_t>(i)];
    const double edge_var = e.link_time * e.link_time * e.link_failure / std::pow(1 - e.link_failure, 2);  // Var(Nτ) = τ²p/(1−p)²
    INFO("seed " << seed << ", edge " << i);
    check_mean(up[static_cast<std::size_t>(i)], up2[static_cast<std::size_t>(i)], model.mean_edge_upload(i), edge_var);
    check_mean(down[static_cast<std::size_t>(i)], down2[static_cast<std::size_t>(i)], model.mean_edge_upload(i), edge_var);
    for (Index j = 0; j < 10; ++j) {
      const auto& w = model.workers[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
      const double var = edge_var + 2 * w.link_time * w.link_time * w.link_failure / std::pow(1 - w.link_failure, 2) +
                         1 / (w.compute_rate * w.compute_rate);  // spec §1.4
      INFO("worker (" << i << "," << j << ")");
      const auto k = static_cast<std::size_t>(10 * i + j);
      check_mean(sum[k], square[k], model.mean_worker_time(i, j, load), var);
    }
  }
}

TEST_CASE(
    "runtime model: hierarchical_time takes the (m_i − s_w)-th smallest arrival per edge plus its upload, then the (n − s_e)-th "
    "smallest edge (eqs. 32–33)",
    "[runtime_model]") {
  iteration_sample s;
  s.edge_download = {0, 0, 0};
  s.edge_upload = {1, 10, 100};
  s.worker_arrival = {{5, 3, 9, 7}, {2, 8, 4, 6}, {1, 1, 3, 2}};
  // s_w = 0 (max): edge times 1+9, 10+8, 100+3 = 10, 18, 103.
  CHECK(gradcode::hierarchical_time(s, 0, 0) == 103);
  CHECK(gradcode::hierarchical_time(s, 1, 0) == 18);
  CHECK(gradcode::hierarchical_time(s, 2, 0) == 10);
  // s_w = 1 (3rd smallest): 1+7, 10+6, 100+2 = 8, 16, 102.
  CHECK(gradcode::hierarchical_time(s, 0, 1) == 102);
  CHECK(gradcode::hierarchical_time(s, 1, 1) == 16);
  // s_w = 3 (min): 1+3, 10+2, 100+1 = 4, 12, 101 (the ties 1, 1 count twice).
  CHECK(gradcode::hierarchical_time(s, 0, 3) == 101);
  CHECK(gradcode::hierarchical_time(s, 2, 3) == 4);
  CHECK(gradcode::hierarchical_time(s, 0, 2) == 101);  // 2nd smallest of {1, 1, 3, 2} is 1
  // The §IV example of the k-th minimum: min_{3-th}{3, 4, 5, 6} = 5.
  CHECK(gradcode::detail::kth_smallest({6, 3, 5, 4}, 3) == 5);
}

TEST_CASE("runtime model: with p = 0 and γ → ∞ a sample is deterministic — τ_i + 2τ_(i,j) + cD per worker", "[runtime_model]") {
  std::mt19937_64 rng(1);
  auto model = gradcode::homogeneous_setting(2, 3, {2, 1e12, 5, 0}, {7, 0});
  const auto x = gradcode::sample_iteration(model, 4.0, rng);
  for (const auto& edge : x.worker_arrival)
    for (double t : edge) CHECK(t == Approx(7 + 10 + 8).margin(1e-9));
  CHECK(gradcode::hierarchical_time(x, 1, 2) == Approx(7 + 25).margin(1e-9));
  // Per-worker loads through the generic overload.
  const auto y = gradcode::sample_iteration(
      model, [](Index i, Index j) { return static_cast<double>(i + j); }, rng);
  CHECK(y.worker_arrival[1][2] == Approx(7 + 10 + 2 * 3).margin(1e-9));
}

TEST_CASE("runtime model: validate() throws invalid_parameters naming the node and the bad value", "[runtime_model][errors]") {
  const auto good = tang2024_setting();
  CHECK_NOTHROW(good.validate());
  auto m = good;
  m.edges[1].link_failure = 1;
  CHECK_THROWS_AS(m.validate(), invalid_parameters);
  CHECK_THROWS_WITH(m.validate(), Contains("edge 1") && Contains("[0, 1)"));
  m = good;
  m.workers[0][1].compute_rate = 0;
  CHECK_THROWS_WITH(m.validate(), Contains("worker (0,1)") && Contains("γ"));
  m = good;
  m.workers[2][4].link_time = -5;
  CHECK_THROWS_WITH(m.validate(), Contains("worker (2,4)") && Contains("τ"));
  m = good;
  m.workers[3][0].compute_per_partition = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(m.validate(), Contains("worker (3,0)") && Contains("c = "));
  m = good;
  m.workers[3][0].link_failure = -0.1;
  CHECK_THROWS_WITH(m.validate(), Contains("worker (3,0)") && Contains("p = "));
  CHECK_THROWS_WITH(runtime_model{}.validate(), Contains("no edges"));
  m = good;
  m.workers.pop_back();
  CHECK_THROWS_WITH(m.validate(), Contains("3 worker lists for 4 edges"));
  m = good;
  m.workers[1].clear();
  CHECK_THROWS_WITH(m.validate(), Contains("edge 1 has no workers"));
  CHECK_THROWS_AS(gradcode::homogeneous_setting(2, 2, {1, -1, 1, 0}, {1, 0}), invalid_parameters);
}

// Regression (issue 13): hierarchical_time() took its tolerances unchecked — s_w = m_i asked for
// the 0-th smallest arrival (a read before the vector), s_e = −1 for the (n+1)-th (past it) and
// returned garbage such as a negative time; a NaN arrival broke nth_element's ordering.
TEST_CASE("runtime model: hierarchical_time with tolerances out of range or a malformed sample throws a typed error",
          "[runtime_model][errors]") {
  std::mt19937_64 rng(7);
  const auto model = gradcode::homogeneous_setting(3, 4, {2, 1, 5, 0.1}, {7, 0.1});
  const auto x = gradcode::sample_iteration(model, 2.0, rng);
  CHECK_NOTHROW(gradcode::hierarchical_time(x, 2, 3));
  CHECK_THROWS_AS(gradcode::hierarchical_time(x, 0, 4), invalid_parameters);
  CHECK_THROWS_WITH(gradcode::hierarchical_time(x, 0, 4), Contains("s_w = 4 outside [0, min m_i = 4)"));
  CHECK_THROWS_WITH(gradcode::hierarchical_time(x, -1, 0), Contains("s_e = -1 outside [0, n = 3)"));
  CHECK_THROWS_AS(gradcode::hierarchical_time(x, 3, 0), invalid_parameters);
  CHECK_THROWS_AS(gradcode::hierarchical_time(x, 0, -1), invalid_parameters);
  auto bad = x;
  bad.worker_arrival[1][2] = std::nan("");
  CHECK_THROWS_AS(gradcode::hierarchical_time(bad, 0, 0), gradcode::invalid_input);
  CHECK_THROWS_WITH(gradcode::hierarchical_time(bad, 0, 0), Contains("worker (1,2)"));
  bad = x;
  bad.edge_upload.pop_back();
  CHECK_THROWS_WITH(gradcode::hierarchical_time(bad, 0, 0), Contains("2 edge upload times for 3 edges"));
  bad = x;
  bad.worker_arrival[0].clear();
  CHECK_THROWS_WITH(gradcode::hierarchical_time(bad, 0, 0), Contains("edge 0 has no workers"));
  CHECK_THROWS_AS(gradcode::hierarchical_time(iteration_sample{}, 0, 0), gradcode::invalid_input);
  // Unequal m_i: s_w is bounded by the smallest edge.
  bad = x;
  bad.worker_arrival[2].resize(2);
  CHECK_NOTHROW(gradcode::hierarchical_time(bad, 0, 1));
  CHECK_THROWS_WITH(gradcode::hierarchical_time(bad, 0, 2), Contains("min m_i = 2"));
}

// Regression (issue 13): the model's accessors used vector::at (std::out_of_range for a bad id).
TEST_CASE("runtime model: accessors with an edge or worker out of range throw invalid_input, a bad load invalid_parameters",
          "[runtime_model][errors]") {
  const auto model = tang2024_setting();
  CHECK_THROWS_AS(model.mean_edge_upload(4), gradcode::invalid_input);
  CHECK_THROWS_WITH(model.mean_edge_upload(-1), Contains("edge -1 is outside [0, 4)"));
  CHECK_THROWS_AS(model.worker_count(4), gradcode::invalid_input);
  CHECK_THROWS_WITH(model.mean_worker_time(0, 10, 1), Contains("worker (0,10) does not exist"));
  CHECK_THROWS_AS(model.mean_worker_time(5, 0, 1), gradcode::invalid_input);
  CHECK_THROWS_AS(model.mean_worker_time(0, 0, std::nan("")), invalid_parameters);
  CHECK_THROWS_AS(model.mean_worker_time(0, 0, -1), invalid_parameters);
  CHECK(model.mean_worker_time(0, 0, 0) == Approx(1 / 0.1 + 2 * 50 / 0.9 + 50 / 0.9));
}

// Regression (issue 13): parameters that pass the per-field checks could still make a mean time
// infinite (γ = 1e-320 gives 1/γ = inf, τ = 1e308 with p = 0.5 gives 2τ/(1 − p) = inf), and a
// NaN or negative load went straight into the sampled times.
TEST_CASE("runtime model: derived mean times past the double range and bad loads throw invalid_parameters",
          "[runtime_model][errors]") {
  std::mt19937_64 rng(8);
  auto m = tang2024_setting();
  m.workers[1][3].compute_rate = 1e-320;  // positive and finite, but 1/γ overflows
  CHECK_THROWS_WITH(m.validate(), Contains("worker (1,3)") && Contains("overflows double"));
  CHECK_THROWS_AS(gradcode::sample_iteration(m, 1.0, rng), invalid_parameters);
  m = tang2024_setting();
  m.edges[2].link_time = 1e308;
  m.edges[2].link_failure = 0.5;
  CHECK_THROWS_WITH(m.validate(), Contains("edge 2") && Contains("overflows double"));
  m = tang2024_setting();
  m.workers[0][0].link_time = 1.7e308;
  CHECK_THROWS_WITH(m.validate(), Contains("worker (0,0)"));
  const auto good = tang2024_setting();
  CHECK_THROWS_WITH(gradcode::sample_iteration(good, std::nan(""), rng), Contains("load D = nan"));
  CHECK_THROWS_AS(gradcode::sample_iteration(good, -2.0, rng), invalid_parameters);
  CHECK_THROWS_WITH(gradcode::sample_iteration(good, 1e308, rng), Contains("overflows double"));
  CHECK_THROWS_WITH(gradcode::sample_iteration(
                        good, [](Index i, Index j) { return i == 3 && j == 9 ? -1.0 : 1.0; }, rng),
                    Contains("worker (3,9)"));
}

// Regression (issue 13): homogeneous_setting(−1, 2, …) threw std::length_error and
// homogeneous_setting(2^40, 2^40, …) std::bad_alloc (n·m overflowing on the way).
TEST_CASE("runtime model: homogeneous_setting with n or m below 1 or n·m past limits::max_nodes throws invalid_parameters",
          "[runtime_model][errors][limits]") {
  const gradcode::worker_timing w{1, 1, 1, 0};
  const gradcode::edge_timing e{1, 0};
  CHECK_THROWS_WITH(gradcode::homogeneous_setting(-1, 2, w, e), Contains("n = -1 edges"));
  CHECK_THROWS_AS(gradcode::homogeneous_setting(2, 0, w, e), invalid_parameters);
  CHECK_THROWS_WITH(gradcode::homogeneous_setting(Index{1} << 40, Index{1} << 40, w, e), Contains("exceeds limits::max_nodes"));
  CHECK_THROWS_AS(gradcode::homogeneous_setting(Index{1} << 13, Index{1} << 12, w, e), invalid_parameters);
  CHECK(gradcode::homogeneous_setting(4, 5, w, e).total_workers() == 20);
}
