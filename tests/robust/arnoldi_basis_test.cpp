// SPDX-License-Identifier: MIT
// Vandermonde with Arnoldi (include/gradcode/robust/arnoldi_basis.hpp): orthonormal basis,
// evaluation_matrix reproduces polynomials at the targets (interpolation and least squares),
// accuracy where a monomial Vandermonde solve fails, and the typed errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include <gradcode/core/errors.hpp>
#include <gradcode/robust/arnoldi_basis.hpp>
#include <gradcode/robust/evaluation_points.hpp>

#include "test_support.hpp"

using gradcode::arnoldi_basis;
using gradcode::evaluation_matrix;
using gradcode::Index;
using gradcode::invalid_parameters;
using gradcode::make_evaluation_points;
using gradcode::point_family;
using complex = std::complex<double>;
using cmatrix = gradcode::matrix<complex>;
using cvector = gradcode::vector<complex>;
using gradcode::test::test_seed;

namespace {

/// p(x) = Σ_t c_t x^t by Horner (fine for |x| ≤ 1).
complex horner(const cvector& c, complex x) {
  complex v = 0;
  for (Index t = c.size() - 1; t >= 0; --t) v = v * x + c[t];
  return v;
}

}  // namespace

TEST_CASE("Arnoldi basis: Q has orthonormal columns and Q(j,k) = φ_k(x_j) for the evaluate() recurrence", "[arnoldi]") {
  for (auto family : {point_family::unit_circle, point_family::chebyshev, point_family::paper}) {
    const Index n = family == point_family::paper ? 10 : 64;
    const auto pts = make_evaluation_points(family, n, 1);
    INFO(to_string(family) << " N = " << n);
    const arnoldi_basis basis(pts.nodes, n);
    const cmatrix& q = basis.values();
    CHECK((q.adjoint() * q - cmatrix::Identity(n, n)).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((basis.evaluate(pts.nodes, n) - q).cwiseAbs().maxCoeff() < 1e-9);
  }
}

TEST_CASE("Arnoldi basis: evaluation_matrix reproduces every polynomial of degree < K at the targets, from K or more points",
          "[arnoldi][random]") {
  const auto seed = test_seed(11);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  for (auto family : {point_family::unit_circle, point_family::chebyshev})
    for (Index n : {4, 16, 32, 64})
      for (Index k : {Index{1}, n / 2, n - 3, n}) {
        if (k < 1) continue;
        const auto pts = make_evaluation_points(family, n, std::min<Index>(n, 5));
        INFO(to_string(family) << " N = " << n << " K = " << k);
        // drop up to 3 random nodes but keep ≥ K
        std::vector<complex> kept = pts.nodes;
        std::shuffle(kept.begin(), kept.end(), rng);
        kept.resize(static_cast<std::size_t>(std::max<Index>(k, n - 3)));
        const arnoldi_basis basis(kept, static_cast<Index>(kept.size()));
        const cmatrix d = evaluation_matrix(basis, k, pts.targets);
        double worst = 0;
        for (int trial = 0; trial < 5; ++trial) {
          cvector c(k);
          for (Index t = 0; t < k; ++t) c[t] = complex(normal(rng), normal(rng));
          cvector values(static_cast<Index>(kept.size()));
          for (std::size_t j = 0; j < kept.size(); ++j) values[static_cast<Index>(j)] = horner(c, kept[j]);
          const cvector at_targets = d * values;
          for (std::size_t l = 0; l < pts.targets.size(); ++l)
            worst = std::max(worst, std::abs(at_targets[static_cast<Index>(l)] - horner(c, pts.targets[l])) / c.norm());
        }
        CHECK(worst < 1e-11);
      }
}

TEST_CASE(
    "Arnoldi basis: interpolating T_47 at 48 Chebyshev points is exact to 1e-12 where a monomial Vandermonde solve "
    "loses more than 6 digits",
    "[arnoldi]") {
  // T_47 has monomial coefficients up to ~2^46: the monomial basis cancels, the Arnoldi basis does not.
  const Index n = 48;
  const auto pts = make_evaluation_points(point_family::chebyshev, n, 3);
  auto t47 = [](complex x) { return complex(std::cos(47.0 * std::acos(x.real())), 0.0); };
  cvector values(n);
  for (Index j = 0; j < n; ++j) values[j] = t47(pts.nodes[static_cast<std::size_t>(j)]);
  cvector exact(3);
  for (Index l = 0; l < 3; ++l) exact[l] = t47(pts.targets[static_cast<std::size_t>(l)]);
  const arnoldi_basis basis(pts.nodes, n);
  const double arnoldi_error = (evaluation_matrix(basis, n, pts.targets) * values - exact).cwiseAbs().maxCoeff();
  cmatrix v(n, n);
  for (Index j = 0; j < n; ++j)
    for (Index t = 0; t < n; ++t) v(j, t) = std::pow(pts.nodes[static_cast<std::size_t>(j)], static_cast<int>(t));
  const cvector mono = v.partialPivLu().solve(values);
  cvector mono_at(3);
  for (Index l = 0; l < 3; ++l) mono_at[l] = horner(mono, pts.targets[static_cast<std::size_t>(l)]);
  const double monomial_error = (mono_at - exact).cwiseAbs().maxCoeff();
  std::printf("T_47 at 48 Chebyshev points, error at the targets: Arnoldi %.1e, monomial Vandermonde %.1e\n", arnoldi_error,
              monomial_error);
  CHECK(arnoldi_error < 1e-12);
  CHECK(monomial_error > 1e-6);
}

TEST_CASE("Arnoldi basis: a size outside [1, points] or repeated points throw invalid_parameters", "[arnoldi][errors]") {
  const std::vector<complex> pts{1.0, 2.0, 3.0};
  CHECK_THROWS_AS(arnoldi_basis(pts, 0), invalid_parameters);
  CHECK_THROWS_AS(arnoldi_basis(pts, 4), invalid_parameters);
  const std::vector<complex> repeated{1.0, 2.0, 2.0};
  CHECK_THROWS_AS(arnoldi_basis(repeated, 3), invalid_parameters);
  const std::vector<complex> bad{1.0, std::nan("")};
  CHECK_THROWS_AS(arnoldi_basis(bad, 1), invalid_parameters);
}

TEST_CASE(
    "Arnoldi basis: points of magnitude 1e200 or 1e-200 give the same orthonormal Q and evaluation matrix as the "
    "points scaled to 1",
    "[arnoldi]") {
  // Before: ‖x ∘ q‖² overflowed at |x| ≳ 1e154 (NaN basis) and underflowed at |x| ≲ 1e-160
  // ("repeated points" for distinct ones).
  const auto pts = make_evaluation_points(point_family::unit_circle, 12, 3);
  const arnoldi_basis unit(pts.nodes, 12);
  const cmatrix d_unit = evaluation_matrix(unit, 8, pts.targets);
  for (double scale : {1e200, 1e-200, 1e300, 1e-300}) {
    std::vector<complex> nodes = pts.nodes, targets = pts.targets;
    for (auto& x : nodes) x *= scale;
    for (auto& x : targets) x *= scale;
    INFO("points × " << scale);
    const arnoldi_basis basis(nodes, 12);
    REQUIRE(basis.values().allFinite());
    CHECK((basis.values() - unit.values()).cwiseAbs().maxCoeff() < 1e-13);
    CHECK((evaluation_matrix(basis, 8, targets) - d_unit).cwiseAbs().maxCoeff() < 1e-12);
  }
}
