// SPDX-License-Identifier: MIT
// What JNCSS (tang2024 §IV-C) reads and returns: the options and result of problem P1
// (eqs. 39–47), and internally the validated, flattened problem with B_(i,j) (eqs. 43–44) and the
// exact-count selection of Algorithm 2 lines 13–22, shared by jncss() and jncss_literal().
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/hierarchical/tradeoff.hpp"  // Theorem 1's load D (eq. 44)
#include "gradcode/optimize/runtime_model.hpp"

namespace gradcode {

/// How to run jncss() / jncss_literal().
struct jncss_options {
  /// Skip the pairs (s_e, s_w) for which no HGC code exists, (s_e+1)·max_i m_i > Σ_i m_i
  /// (an edge would need more than K partitions); the paper's loop has no such check, and
  /// `false` reproduces it. Skipped pairs are counted in jncss_result::skipped_pairs. With equal
  /// m_i nothing is ever skipped.
  bool skip_nonexistent_codes = true;
};

/// Optimum of P1 (eq. 47) and the node selection achieving it (Algorithm 2's output).
struct jncss_result {
  Index edge_tolerance = 0;         ///< ŝ_e ∈ [0, n)
  Index worker_tolerance = 0;       ///< ŝ_w ∈ [0, min m_i)
  double time = 0;                  ///< T̂_tol = T̂(ŝ_e, ŝ_w), the optimum of P1 (ms)
  double load = 0;                  ///< D = K(ŝ_e+1)(ŝ_w+1)/Σm_i (eq. 44), partitions per worker, may be fractional
  std::vector<bool> edge_selected;  ///< e_i: exactly n − ŝ_e ones (eq. 41)
  std::vector<std::vector<bool>> worker_selected;  ///< w_(i,j): m_i − ŝ_w ones on selected edges, none elsewhere (eq. 42)
  Index searched_edge_tolerances = 0;              ///< s_e ∈ [0, this) were searched (n unless codes were skipped)
  Index skipped_pairs = 0;                         ///< pairs skipped because no HGC code exists (jncss_options)
};

namespace detail {

/// D = K(s_e+1)(s_w+1)/Σm_i (eq. 44): Theorem 1's load, detail::unchecked_load_bound
/// (hierarchical/tradeoff.hpp), by the name JNCSS and its tests use; nondecreasing in (s_e+1)(s_w+1).
inline double jncss_load(Index partitions, Index edge_tolerance, Index worker_tolerance, Index total_workers) noexcept {
  return unchecked_load_bound(partitions, edge_tolerance, worker_tolerance, total_workers);
}
/// The D-independent part of B_(i,j) (eq. 43): 1/γ + 2τ_(i,j)/(1 − p_(i,j)) + A_i.
inline double jncss_worker_offset(const worker_timing& w, double edge_upload) {
  return 1 / w.compute_rate + 2 * w.link_time / (1 - w.link_failure) + edge_upload;
}
/// B_(i,j) = c_(i,j)·D + offset, one exact rounding (monotone in D for c ≥ 0). Every JNCSS
/// routine computes B through this function so that they agree bit for bit.
inline double jncss_worker_mean(double compute_per_partition, double load, double offset) {
  return std::fma(compute_per_partition, load, offset);
}

/// Validated, flattened inputs of Algorithm 2 (workers of edge i at [first[i], first[i+1])).
struct jncss_problem {
  Index edges = 0;          // n
  Index total_workers = 0;  // Σm_i
  Index min_workers = 0;    // m = min m_i
  Index max_workers = 0;
  Index partitions = 0;       // K
  Index edge_tolerances = 0;  // s_e searched in [0, edge_tolerances)
  Index skipped_pairs = 0;
  std::vector<Index> first;
  std::vector<double> upload;   // A_i
  std::vector<double> compute;  // c_(i,j)
  std::vector<double> offset;   // o_(i,j)

  double load(Index se, Index sw) const { return jncss_load(partitions, se, sw, total_workers); }
  Index workers(Index i) const { return first[static_cast<std::size_t>(i) + 1] - first[static_cast<std::size_t>(i)]; }
};

/// The checks of runtime_model::validate() without building a message per node; on any failure
/// validate() itself throws (so the message names the node).
inline void jncss_validate(const runtime_model& model) { check_runtime_model(model); }

inline jncss_problem jncss_prepare(const runtime_model& model, Index partitions, const jncss_options& options) {
  jncss_validate(model);
  if (partitions < 1)
    throw invalid_parameters("JNCSS: K = " + std::to_string(partitions) +
                             " partitions; need K >= 1 (e.g. K = Σm_i = " + std::to_string(model.total_workers()) + ")");
  jncss_problem p;
  p.edges = model.edge_count();
  p.total_workers = model.total_workers();
  p.partitions = partitions;
  p.min_workers = std::numeric_limits<Index>::max();
  p.first.reserve(static_cast<std::size_t>(p.edges) + 1);
  p.first.push_back(0);
  p.compute.reserve(static_cast<std::size_t>(p.total_workers));
  p.offset.reserve(static_cast<std::size_t>(p.total_workers));
  for (Index i = 0; i < p.edges; ++i) {
    const double a = model.mean_edge_upload(i);
    p.upload.push_back(a);
    for (const auto& w : model.workers[static_cast<std::size_t>(i)]) {
      p.compute.push_back(w.compute_per_partition);
      p.offset.push_back(jncss_worker_offset(w, a));
    }
    p.first.push_back(static_cast<Index>(p.compute.size()));
    p.min_workers = std::min(p.min_workers, p.workers(i));
    p.max_workers = std::max(p.max_workers, p.workers(i));
  }
  p.edge_tolerances = p.edges;
  if (options.skip_nonexistent_codes)  // (s_e+1)·max m_i ≤ Σm_i; s_e = 0 always qualifies
    p.edge_tolerances = std::min(p.edges, p.total_workers / p.max_workers);
  p.skipped_pairs = (p.edges - p.edge_tolerances) * p.min_workers;
  // Every time the search compares, A_i + B_(i,j)(D), is at most its value at the largest load
  // searched (B is nondecreasing in D). Keep those finite with room to spare (the bounds and
  // caches add and subtract a few of them), so no comparison ever meets an Inf or a NaN.
  const double max_load = p.load(p.edge_tolerances - 1, p.min_workers - 1);
  for (Index i = 0; i < p.edges; ++i)
    for (Index w = p.first[static_cast<std::size_t>(i)]; w < p.first[static_cast<std::size_t>(i) + 1]; ++w) {
      const auto sw = static_cast<std::size_t>(w);
      const double t = p.upload[static_cast<std::size_t>(i)] + jncss_worker_mean(p.compute[sw], max_load, p.offset[sw]);
      if (!std::isfinite(16 * t))
        throw invalid_parameters("JNCSS: worker (" + std::to_string(i) + "," +
                                 std::to_string(w - p.first[static_cast<std::size_t>(i)]) +
                                 ")'s time A + c·D + o = " + format_g(t) + " at load D = " + format_g(max_load) +
                                 " (K = " + std::to_string(partitions) + ") is past the double range; reduce K or c");
    }
  return p;
}

/// Lines 13–22 of Algorithm 2 with exact counts (spec §3.2): the first n − ŝ_e edges by
/// (A_i + b_i, i) and, inside each, the first m_i − ŝ_w workers by (B_(i,j), j).
inline void jncss_select(const jncss_problem& p, jncss_result& r) {
  const Index n = p.edges, sw = r.worker_tolerance;
  const double load = p.load(r.edge_tolerance, sw);
  using key = std::pair<double, Index>;
  std::vector<key> edge_keys, worker_keys, kth_worker(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    worker_keys.clear();
    for (Index j = 0; j < p.workers(i); ++j) {
      const auto w = static_cast<std::size_t>(p.first[static_cast<std::size_t>(i)] + j);
      worker_keys.emplace_back(jncss_worker_mean(p.compute[w], load, p.offset[w]), j);
    }
    const auto kth = worker_keys.begin() + (p.workers(i) - sw - 1);
    std::nth_element(worker_keys.begin(), kth, worker_keys.end());
    kth_worker[static_cast<std::size_t>(i)] = *kth;
    edge_keys.emplace_back(p.upload[static_cast<std::size_t>(i)] + kth->first, i);
  }
  const auto kth_edge = edge_keys.begin() + (n - r.edge_tolerance - 1);
  std::nth_element(edge_keys.begin(), kth_edge, edge_keys.end());
  const key edge_cut = *kth_edge;
  r.time = edge_cut.first;
  r.load = load;
  r.edge_selected.assign(static_cast<std::size_t>(n), false);
  r.worker_selected.assign(static_cast<std::size_t>(n), {});
  for (Index i = 0; i < n; ++i) {
    const auto si = static_cast<std::size_t>(i);
    r.worker_selected[si].assign(static_cast<std::size_t>(p.workers(i)), false);
    const key edge_key{p.upload[si] + kth_worker[si].first, i};
    if (edge_cut < edge_key) continue;
    r.edge_selected[si] = true;
    for (Index j = 0; j < p.workers(i); ++j) {
      const auto w = static_cast<std::size_t>(p.first[si] + j);
      const key worker_key{jncss_worker_mean(p.compute[w], load, p.offset[w]), j};
      r.worker_selected[si][static_cast<std::size_t>(j)] = !(kth_worker[si] < worker_key);
    }
  }
}

}  // namespace detail

}  // namespace gradcode
