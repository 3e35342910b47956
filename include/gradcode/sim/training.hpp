// SPDX-License-Identifier: MIT
// Training driver of tang2024 §V: gradient descent in which every iteration's gradient is
// produced by a scheme's real encode/decode path (scheme_runner) from the K partial gradients,
// and the clock advances by the scheme's simulated iteration time. Also the non-IID splits of
// §V-A (levels I–III: partitions drawn from all / at most 5 / at most 2 classes).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/sim/models.hpp"
#include "gradcode/sim/schemes.hpp"

namespace gradcode {

/// §V-A non-IID level: how many classes one partition draws from.
enum class non_iid_level { i = 1, ii = 2, iii = 3 };

inline Index classes_per_partition(non_iid_level level, Index classes) {
  switch (level) {
    case non_iid_level::i:
      return classes;
    case non_iid_level::ii:
      return std::min<Index>(5, classes);
    case non_iid_level::iii:
      return std::min<Index>(2, classes);
  }
  return classes;
}

/// Splits labelled samples into K equal-size partitions (± 1) for a non-IID level and returns
/// them reordered by partition. Each partition picks its classes uniformly among those with
/// samples left (the paper says "at most" 5 or 2 classes; when a class runs out the partition
/// fills from its other classes, then from any class, so every sample is used once).
template <class Scalar>
partitioned_data<Scalar> split_non_iid(const matrix<Scalar>& features, const std::vector<int>& labels, Index partitions,
                                       non_iid_level level, std::uint64_t seed) {
  const Index samples = features.rows();
  if (partitions < 1 || partitions > samples)
    throw invalid_parameters("split: K = " + std::to_string(partitions) + " partitions for " + std::to_string(samples) +
                             " samples; need 1 <= K <= samples");
  if (static_cast<Index>(labels.size()) != samples) throw invalid_input("split: labels and features disagree in length");
  const int classes = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
  std::mt19937_64 rng(seed);
  std::vector<std::vector<Index>> pool(static_cast<std::size_t>(classes));
  for (Index s = 0; s < samples; ++s) pool[static_cast<std::size_t>(labels[static_cast<std::size_t>(s)])].push_back(s);
  for (auto& p : pool) std::shuffle(p.begin(), p.end(), rng);
  const Index per_partition_classes = classes_per_partition(level, classes);
  std::vector<Index> order;
  std::vector<Index> begin{0};
  for (Index k = 0; k < partitions; ++k) {
    const Index size = samples / partitions + (k < samples % partitions ? 1 : 0);
    std::vector<int> available;
    for (int c = 0; c < classes; ++c)
      if (!pool[static_cast<std::size_t>(c)].empty()) available.push_back(c);
    std::shuffle(available.begin(), available.end(), rng);
    std::vector<int> chosen(
        available.begin(),
        available.begin() + std::min<std::size_t>(available.size(), static_cast<std::size_t>(per_partition_classes)));
    Index taken = 0;
    auto take_from = [&](const std::vector<int>& from) {
      for (bool progress = true; taken < size && progress;) {
        progress = false;
        for (int c : from) {
          auto& p = pool[static_cast<std::size_t>(c)];
          if (taken < size && !p.empty()) {
            order.push_back(p.back());
            p.pop_back();
            ++taken;
            progress = true;
          }
        }
      }
    };
    take_from(chosen);
    take_from(available);
    begin.push_back(static_cast<Index>(order.size()));
  }
  partitioned_data<Scalar> out;
  out.features.resize(samples, features.cols());
  out.labels.resize(static_cast<std::size_t>(samples));
  for (Index r = 0; r < samples; ++r) {
    out.features.row(r) = features.row(order[static_cast<std::size_t>(r)]);
    out.labels[static_cast<std::size_t>(r)] = labels[static_cast<std::size_t>(order[static_cast<std::size_t>(r)])];
  }
  out.begin = std::move(begin);
  return out;
}

/// One point of a learning curve.
struct training_point {
  Index iteration = 0;
  double time_ms = 0;        ///< simulated wall clock (sum of iteration times)
  double train_loss = 0;     ///< mean loss on the training partitions
  double test_accuracy = 0;  ///< accuracy on the test set
};

struct training_options {
  Index iterations = 300;
  double learning_rate = 0.5;                           ///< step on the mean gradient (g / samples)
  Index evaluate_every = 10;                            ///< curve resolution (iterations)
  std::uint64_t seed = 1;                               ///< seed of the runtime-model draws
  std::function<void(const training_point&)> progress;  ///< called at every evaluation
};

struct training_result {
  std::vector<training_point> curve;
  double mean_iteration_ms = 0;
  double max_gradient_error = 0;  ///< max ‖ĝ − Σg_k‖ / Σ_k‖g_k‖ seen (rounding level for exact schemes)
};

namespace detail {
/// The loop shared by the drivers: `evaluate(w)` returns (train loss, test metric).
template <class Scalar, class Model, class Evaluate>
training_result gradient_descent(const scheme_runner<Scalar>& runner, const Model& model, const partitioned_data<Scalar>& train,
                                 const training_options& options, Evaluate&& evaluate) {
  std::mt19937_64 rng(options.seed);
  vector<Scalar> w = vector<Scalar>::Zero(model.parameters());
  matrix<Scalar> partials;
  vector<Scalar> g(model.parameters());
  training_result result;
  double clock = 0;
  auto record = [&](Index it) {
    const auto [loss, metric] = evaluate(w);
    training_point p{it, clock, loss, metric};
    result.curve.push_back(p);
    if (options.progress) options.progress(p);
  };
  record(0);
  for (Index it = 1; it <= options.iterations; ++it) {
    model.partial_gradients(w, train, partials);
    const auto round = runner.sample_round(rng);
    runner.aggregate(round, partials, g);
    const vector<Scalar> truth = partials.rowwise().sum();
    const double scale = partials.colwise().norm().sum();  // near an optimum Σg_k ≪ Σ‖g_k‖: measure against what was coded
    result.max_gradient_error = std::max(result.max_gradient_error, static_cast<double>((g - truth).norm()) / scale);
    w -= static_cast<Scalar>(options.learning_rate / static_cast<double>(train.samples())) * g;
    clock += round.time;
    if (it % options.evaluate_every == 0 || it == options.iterations) record(it);
  }
  result.mean_iteration_ms = clock / static_cast<double>(std::max<Index>(1, options.iterations));
  return result;
}
}  // namespace detail

/// Gradient descent of softmax regression with the gradients the scheme's master decodes;
/// the curve's test metric is the test accuracy.
template <class Scalar>
training_result train_softmax(const scheme_runner<Scalar>& runner, const softmax_regression<Scalar>& model,
                              const partitioned_data<Scalar>& train, const matrix<Scalar>& test_features,
                              const std::vector<int>& test_labels, const training_options& options) {
  return detail::gradient_descent(runner, model, train, options, [&](const vector<Scalar>& w) {
    return std::pair{model.loss(w, train.features, train.labels), model.accuracy(w, test_features, test_labels)};
  });
}

/// Gradient descent of least-squares linear regression (train.targets); the curve's test metric
/// (training_point::test_accuracy) is the mean ½ squared error on the test set.
template <class Scalar>
training_result train_linear(const scheme_runner<Scalar>& runner, const linear_regression<Scalar>& model,
                             const partitioned_data<Scalar>& train, const matrix<Scalar>& test_features,
                             const vector<Scalar>& test_targets, const training_options& options) {
  return detail::gradient_descent(runner, model, train, options, [&](const vector<Scalar>& w) {
    return std::pair{model.loss(w, train.features, train.targets), model.loss(w, test_features, test_targets)};
  });
}

}  // namespace gradcode
