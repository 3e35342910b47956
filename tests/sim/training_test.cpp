// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <gradcode/optimize/presets.hpp>
#include <gradcode/sim/training.hpp>

#include <random>
#include <set>

#include "sim/blobs.hpp"

using namespace gradcode;

TEST_CASE("training: the softmax partial gradients sum to the full-data gradient (finite differences)", "[training]") {
  matrix<float> xf;
  std::vector<int> y;
  gradcode::test::blobs(xf, y, 600, 1);
  const matrix<double> x = xf.cast<double>();
  const auto data = split_non_iid<double>(x, y, 6, non_iid_level::i, 2);
  const softmax_regression<double> model(5, 3);
  vector<double> w = vector<double>::Random(model.parameters()) * 0.1;
  matrix<double> partials;
  model.partial_gradients(w, data, partials);
  const vector<double> g = partials.rowwise().sum() / static_cast<double>(data.samples());
  for (Index t = 0; t < model.parameters(); ++t) {
    vector<double> e = vector<double>::Zero(model.parameters());
    e[t] = 1e-6;
    const double fd = (model.loss(w + e, data.features, data.labels) - model.loss(w - e, data.features, data.labels)) / 2e-6;
    CHECK(g[t] == Approx(fd).margin(1e-6));
  }
}

TEST_CASE("training: non-IID level III partitions draw from at most 2 classes, level II from at most 5", "[training]") {
  matrix<float> x(1000, 1);
  std::vector<int> y(1000);
  for (int s = 0; s < 1000; ++s) y[static_cast<std::size_t>(s)] = s % 10, x(s, 0) = static_cast<float>(s);
  for (auto [level, most] : {std::pair{non_iid_level::ii, 5}, std::pair{non_iid_level::iii, 2}}) {
    const auto data = split_non_iid<float>(x, y, 20, level, 3);
    REQUIRE(data.partitions() == 20);
    std::multiset<float> seen;
    for (Index k = 0; k < 20; ++k) {
      std::set<int> classes;
      for (Index r = data.begin[static_cast<std::size_t>(k)]; r < data.begin[static_cast<std::size_t>(k) + 1]; ++r)
        classes.insert(data.labels[static_cast<std::size_t>(r)]), seen.insert(data.features(r, 0));
      CHECK(data.begin[static_cast<std::size_t>(k) + 1] - data.begin[static_cast<std::size_t>(k)] == 50);
      CHECK(static_cast<int>(classes.size()) <= most);
    }
    CHECK(seen.size() == 1000);  // every sample used once
    CHECK(std::set<float>(seen.begin(), seen.end()).size() == 1000);
  }
}

TEST_CASE("training: HGC-coded gradient descent reaches 95 % accuracy on separable blobs and matches Uncoded", "[training]") {
  matrix<float> x, xt;
  std::vector<int> y, yt;
  gradcode::test::blobs(x, y, 600, 1);
  gradcode::test::blobs(xt, yt, 600, 2);
  const auto data = split_non_iid<float>(x, y, 40, non_iid_level::iii, 4);
  const softmax_regression<float> model(5, 3);
  const auto timing = tang2024_setting();
  training_options opt;
  opt.iterations = 60;
  opt.learning_rate = 0.5;
  const auto hgc = train_softmax(scheme_runner<float>(scheme::hgc, timing, 40, 1, 2), model, data, xt, yt, opt);
  const auto unc = train_softmax(scheme_runner<float>(scheme::uncoded, timing, 40, 0, 0), model, data, xt, yt, opt);
  CHECK(hgc.curve.back().test_accuracy >= 0.95);
  CHECK(hgc.max_gradient_error <= 1e-4);
  // Exact gradients → the same trajectory; only the clock differs (HGC is faster per iteration).
  CHECK(hgc.curve.back().train_loss == Approx(unc.curve.back().train_loss).epsilon(1e-3));
  CHECK(hgc.mean_iteration_ms < unc.mean_iteration_ms);
}

TEST_CASE("training: coded gradient descent of linear regression converges to the least-squares solution", "[training]") {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> normal;
  matrix<double> x(400, 3);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
  const vector<double> beta = (vector<double>(3) << 1.5, -2.0, 0.5).finished();
  partitioned_data<double> data;
  data.features = x;
  data.targets =
      x * beta + vector<double>::Constant(400, 0.25) + 0.01 * vector<double>::NullaryExpr(400, [&] { return normal(rng); });
  for (Index k = 0; k <= 40; ++k) data.begin.push_back(k * 10);
  const linear_regression<double> model(3);
  training_options opt;
  opt.iterations = 200;
  opt.learning_rate = 0.5;
  const auto r =
      train_linear(scheme_runner<double>(scheme::hgc, tang2024_setting(), 40, 1, 2), model, data, x, data.targets, opt);
  // Noise variance 1e-4 → optimal mean ½ squared error ≈ 5e-5.
  CHECK(r.curve.back().train_loss < 1e-4);
  CHECK(r.curve.front().train_loss > 1.0);
  CHECK(r.max_gradient_error <= 1e-9);
}
