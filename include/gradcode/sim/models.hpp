// SPDX-License-Identifier: MIT
// Models for the training driver (tang2024 §V): multinomial logistic (softmax) regression and
// least-squares linear regression, each producing the K partial gradients g_k (eq. 2: the
// gradient of the summed loss over partition k) as the d × K matrix the codes encode.
#pragma once

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

/// Samples ordered by partition: rows [begin[k], begin[k+1]) of `features` form partition k.
template <class Scalar>
struct partitioned_data {
  matrix<Scalar> features;   ///< samples × p (a bias column is added by the models)
  std::vector<int> labels;   ///< class per sample (classification)
  vector<Scalar> targets;    ///< real target per sample (regression)
  std::vector<Index> begin;  ///< K + 1 partition boundaries
  Index partitions() const noexcept { return static_cast<Index>(begin.size()) - 1; }
  Index samples() const noexcept { return features.rows(); }
};

/// Softmax regression with C classes: parameters W ∈ R^{(p+1)×C} flattened column-major
/// (d = (p+1)·C); loss = Σ cross-entropy.
template <class Scalar>
class softmax_regression {
 public:
  softmax_regression(Index features, Index classes) : m_p(features), m_c(classes) {
    if (features < 1 || classes < 2)
      throw invalid_parameters("softmax regression needs p >= 1 features and C >= 2 classes (got " + std::to_string(features) +
                               ", " + std::to_string(classes) + ")");
  }
  Index parameters() const noexcept { return (m_p + 1) * m_c; }

  /// out (d × K) = per-partition gradients of the summed cross-entropy at w.
  void partial_gradients(const vector<Scalar>& w, const partitioned_data<Scalar>& data, matrix<Scalar>& out) const {
    const matrix<Scalar> residual = probabilities(w, data.features) - one_hot(data.labels, data.samples());
    out.resize(parameters(), data.partitions());
    for (Index k = 0; k < data.partitions(); ++k) {
      const Index b = data.begin[static_cast<std::size_t>(k)], e = data.begin[static_cast<std::size_t>(k) + 1];
      Eigen::Map<matrix<Scalar>> G(out.col(k).data(), m_p + 1, m_c);
      G.topRows(m_p).noalias() = data.features.middleRows(b, e - b).transpose() * residual.middleRows(b, e - b);
      G.row(m_p) = residual.middleRows(b, e - b).colwise().sum();
    }
  }
  /// Mean cross-entropy over the samples.
  double loss(const vector<Scalar>& w, const matrix<Scalar>& features, const std::vector<int>& labels) const {
    const matrix<Scalar> P = probabilities(w, features);
    double total = 0;
    for (Index s = 0; s < P.rows(); ++s) total -= std::log(std::max<double>(P(s, labels[static_cast<std::size_t>(s)]), 1e-30));
    return total / static_cast<double>(P.rows());
  }
  /// Fraction of samples whose arg-max class is the label.
  double accuracy(const vector<Scalar>& w, const matrix<Scalar>& features, const std::vector<int>& labels) const {
    const matrix<Scalar> S = scores(w, features);
    Index right = 0;
    for (Index s = 0; s < S.rows(); ++s) {
      Index best;
      S.row(s).maxCoeff(&best);
      right += best == labels[static_cast<std::size_t>(s)];
    }
    return static_cast<double>(right) / static_cast<double>(S.rows());
  }

 private:
  matrix<Scalar> scores(const vector<Scalar>& w, const matrix<Scalar>& X) const {
    Eigen::Map<const matrix<Scalar>> W(w.data(), m_p + 1, m_c);
    matrix<Scalar> S = X * W.topRows(m_p);
    S.rowwise() += W.row(m_p);
    return S;
  }
  matrix<Scalar> probabilities(const vector<Scalar>& w, const matrix<Scalar>& X) const {
    matrix<Scalar> S = scores(w, X);
    for (Index s = 0; s < S.rows(); ++s) {  // stable softmax per row
      S.row(s).array() -= S.row(s).maxCoeff();
      S.row(s) = S.row(s).array().exp().matrix();
      S.row(s) /= S.row(s).sum();
    }
    return S;
  }
  matrix<Scalar> one_hot(const std::vector<int>& labels, Index samples) const {
    matrix<Scalar> Y = matrix<Scalar>::Zero(samples, m_c);
    for (Index s = 0; s < samples; ++s) Y(s, labels[static_cast<std::size_t>(s)]) = 1;
    return Y;
  }
  Index m_p, m_c;
};

/// Least-squares linear regression y ≈ xᵀβ + β_0: d = p + 1; loss = ½Σ(xᵀβ + β_0 − y)².
template <class Scalar>
class linear_regression {
 public:
  explicit linear_regression(Index features) : m_p(features) {
    if (features < 1) throw invalid_parameters("linear regression needs p >= 1 features");
  }
  Index parameters() const noexcept { return m_p + 1; }
  void partial_gradients(const vector<Scalar>& w, const partitioned_data<Scalar>& data, matrix<Scalar>& out) const {
    const vector<Scalar> r = residual(w, data.features, data.targets);
    out.resize(parameters(), data.partitions());
    for (Index k = 0; k < data.partitions(); ++k) {
      const Index b = data.begin[static_cast<std::size_t>(k)], e = data.begin[static_cast<std::size_t>(k) + 1];
      out.col(k).head(m_p).noalias() = data.features.middleRows(b, e - b).transpose() * r.segment(b, e - b);
      out(m_p, k) = r.segment(b, e - b).sum();
    }
  }
  /// Mean of ½ residual².
  double loss(const vector<Scalar>& w, const matrix<Scalar>& features, const vector<Scalar>& targets) const {
    return 0.5 * residual(w, features, targets).squaredNorm() / static_cast<double>(features.rows());
  }

 private:
  vector<Scalar> residual(const vector<Scalar>& w, const matrix<Scalar>& X, const vector<Scalar>& y) const {
    return (X * w.head(m_p)).array() + w[m_p] - y.array();
  }
  Index m_p;
};

}  // namespace gradcode
