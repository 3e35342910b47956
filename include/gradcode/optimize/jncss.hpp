// SPDX-License-Identifier: MIT
// Joint node and coding-scheme selection (JNCSS) of tang2024 §IV-C: the exact optimum of problem
// P1 (eqs. 39–47) — tolerances (ŝ_e, ŝ_w) and the selected edges e_i and workers w_(i,j) — as
// Algorithm 2 computes it (with its errata, Theorem 2), and Theorem 3's gap bound (eqs. 48–49,
// Lemma 1 eq. 54) between the surrogate optimum T̂_tol and the model's expected iteration time.
//
// Algorithm (jncss(); exact — equal to jncss_literal() in value, pair and selection):
//   T̂(s_e,s_w) = kth_{n−s_e}( A_i + kth_{m_i−s_w} B_(i,j)(D) ),  D = K(s_e+1)(s_w+1)/Σm_i    (51, 44)
//   with B_(i,j)(D) = c_(i,j)·D + o_(i,j) linear in D (o = 1/γ + 2τ_(i,j)/(1−p_(i,j)) + A_i).
//   H(D, b, d) := kth_{n−b}( A_i + kth_{m_i−d} B_(i,·)(D) ) is nondecreasing in D (c ≥ 0) and
//   nonincreasing in b and d, so every pair of a block [a,b] × [c,d] has T̂ ≥ H(D(a,c), b, d).
//   Branch and bound over blocks of pairs (halving the longer side), seeded with the four corner
//   pairs, best-first by a sampled estimate of H (a heuristic for the order only):
//     1. a block survives iff H(D(a,c), b, d) ≤ T̂* (the best so far; "<" when no pair of the
//        block precedes the best pair lexicographically). This is a decision, not a selection:
//        edge i passes iff ≥ m_i − d of its workers have A_i + B_(i,j) ≤ T̂*, settled per edge by
//        (a) O(1) bounds kth(x+y) ∈ [x_(r) + y_(k+1−r), x_(r) + y_(k+m−r)] from the 8 smallest and
//        largest c and o, (b) a threshold cache — the loads t_j = (T̂* − A_i − o_j)/c_j sorted,
//        built once an edge has been counted 32 times — or (c) a vectorised count;
//     2. a surviving single pair is evaluated exactly: bounds/caches bracket every edge value, and
//        only the edges that may be the (n − s_e)-th smallest are selected (nth_element).
//   Every exact comparison uses the same floating-point expressions as the literal transcription
//   (B = fma(c, D, o), exactly rounded and so monotone in D); the threshold caches carry a
//   rounding margin and fall back to counting inside it. So the optimum, its pair and its ties
//   are bit-identical to jncss_literal (tests/optimize/jncss_test.cpp checks this and brute force).
// Complexity: jncss_literal is O(nm · N log m) (the paper's loop, sorting every edge per pair);
// jncss() touches only the blocks that can still hold the optimum — measured in
// bench/optimize_bench.cpp (n = m = 100: ~1000× faster; n = m = 1000 well under a second).
// Flat landscapes with many near-optimal pairs cost more (every such pair is examined).
//
// Theorem 3 (jncss_gap): |E[T_tol] − T̂_tol| ≤ f(n, n−ŝ_e)Δ_e + max_i f(m_i, m_i−ŝ_w)Δ_w^i (48),
// with Lemma 1's f (54), Δ_w^i in closed form and Δ_e by Monte Carlo (49, m_i erratum). The paper
// states the bound for E|T_tol − T̂_tol|; its proof gives |E[T_tol] − T̂_tol|, which is what this
// computes (spec §3.4, README "Notes on the papers").
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
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
  Index edge_tolerance = 0;    ///< ŝ_e ∈ [0, n)
  Index worker_tolerance = 0;  ///< ŝ_w ∈ [0, min m_i)
  double time = 0;             ///< T̂_tol = T̂(ŝ_e, ŝ_w), the optimum of P1 (ms)
  double load = 0;             ///< D = K(ŝ_e+1)(ŝ_w+1)/Σm_i (eq. 44), partitions per worker, may be fractional
  std::vector<bool> edge_selected;                 ///< e_i: exactly n − ŝ_e ones (eq. 41)
  std::vector<std::vector<bool>> worker_selected;  ///< w_(i,j): m_i − ŝ_w ones on selected edges, none elsewhere (eq. 42)
  Index searched_edge_tolerances = 0;  ///< s_e ∈ [0, this) were searched (n unless codes were skipped)
  Index skipped_pairs = 0;             ///< pairs skipped because no HGC code exists (jncss_options)
};

namespace detail {

/// D = K(s_e+1)(s_w+1)/Σm_i (eq. 44): one exactly rounded division of exact integers, so it is
/// nondecreasing in (s_e+1)(s_w+1).
inline double jncss_load(Index partitions, Index edge_tolerance, Index worker_tolerance, Index total_workers) {
  return static_cast<double>(partitions) * static_cast<double>((edge_tolerance + 1) * (worker_tolerance + 1)) /
         static_cast<double>(total_workers);
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
  Index edges = 0;           // n
  Index total_workers = 0;   // Σm_i
  Index min_workers = 0;     // m = min m_i
  Index max_workers = 0;
  Index partitions = 0;      // K
  Index edge_tolerances = 0; // s_e searched in [0, edge_tolerances)
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
    throw invalid_parameters("JNCSS: K = " + std::to_string(partitions) + " partitions; need K >= 1 (e.g. K = Σm_i = " +
                             std::to_string(model.total_workers()) + ")");
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
        throw invalid_parameters("JNCSS: worker (" + std::to_string(i) + "," + std::to_string(w - p.first[static_cast<std::size_t>(i)]) +
                                 ")'s time A + c·D + o = " + format_g(t) + " at load D = " + format_g(max_load) + " (K = " +
                                 std::to_string(partitions) + ") is past the double range; reduce K or c");
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

/// k-th smallest (1-based) of `v` (reordered): one short scan when k is within 8 of either end,
/// otherwise nth_element.
inline double jncss_kth(std::vector<double>& v, Index k) {
  const auto size = static_cast<Index>(v.size());
  constexpr Index small = 8;
  if (k <= small || size - k + 1 <= small) {
    const bool low = k <= small;
    const Index r = low ? k : size - k + 1;  // keep the r smallest (largest) seen, sorted
    double keep[small];
    Index held = 0;
    for (double x : v) {
      if (held == r && !(low ? x < keep[r - 1] : x > keep[r - 1])) continue;
      Index pos = held < r ? held++ : r - 1;
      while (pos > 0 && (low ? x < keep[pos - 1] : x > keep[pos - 1])) {
        keep[pos] = keep[pos - 1];
        --pos;
      }
      keep[pos] = x;
    }
    return keep[r - 1];
  }
  const auto kth = v.begin() + (k - 1);
  std::nth_element(v.begin(), kth, v.end());
  return *kth;
}

/// Branch and bound of jncss() (see the header comment).
class jncss_solver {
 public:
  explicit jncss_solver(const jncss_problem& p) : m_p(p) {
    const double typical_load = p.load(0, 0);
    std::vector<double> typical(static_cast<std::size_t>(p.edges));
    m_extremes.reserve(static_cast<std::size_t>(4 * extreme_ranks * p.edges));
    for (Index i = 0; i < p.edges; ++i) {
      edge_summary e;
      e.upload = p.upload[static_cast<std::size_t>(i)];
      e.first = static_cast<std::size_t>(p.first[static_cast<std::size_t>(i)]);
      e.workers = p.workers(i);
      e.ranks = std::min(e.workers, extreme_ranks);
      const double* c = p.compute.data() + e.first;
      const double* o = p.offset.data() + e.first;
      double c_sum = 0, o_sum = 0;
      for (Index j = 0; j < e.workers; ++j) {
        c_sum += c[j];
        o_sum += o[j];
      }
      typical[static_cast<std::size_t>(i)] = e.upload + (c_sum * typical_load + o_sum) / static_cast<double>(e.workers);
      e.extremes = m_extremes.size();
      for (const double* v : {c, o}) {  // c_(1..R), c_(m−R+1..m), o_(1..R), o_(m−R+1..m)
        const std::size_t low = m_extremes.size();
        m_extremes.resize(low + static_cast<std::size_t>(2 * e.ranks));
        extreme_values(v, e.workers, e.ranks, m_extremes.data() + low, m_extremes.data() + low + e.ranks);
      }
      // Evenly spaced sample of the workers, for the search-order heuristic only.
      e.sample = m_sample_compute.size();
      e.samples = std::min<Index>(e.workers, sample_size);
      for (Index t = 0; t < e.samples; ++t) {
        const auto j = static_cast<std::size_t>((2 * t + 1) * e.workers / (2 * e.samples));
        m_sample_compute.push_back(c[j]);
        m_sample_offset.push_back(o[j]);
      }
      m_edges.push_back(e);
    }
    const Index sampled_edges = std::min<Index>(p.edges, 64);
    for (Index t = 0; t < sampled_edges; ++t) m_sample_edges.push_back((2 * t + 1) * p.edges / (2 * sampled_edges));
    m_order.resize(static_cast<std::size_t>(p.edges));
    std::iota(m_order.begin(), m_order.end(), Index{0});
    std::stable_sort(m_order.begin(), m_order.end(),
                     [&](Index x, Index y) { return typical[static_cast<std::size_t>(x)] < typical[static_cast<std::size_t>(y)]; });
    m_values.reserve(static_cast<std::size_t>(p.max_workers));
    m_edge_values.reserve(static_cast<std::size_t>(p.edges));
  }

  /// (T̂, ŝ_e, ŝ_w): the smallest T̂, lexicographically first pair among ties.
  void solve(double& best_time, Index& best_se, Index& best_sw) {
    best_time = std::numeric_limits<double>::infinity();
    best_se = best_sw = -1;
    // Seeds: the corners of the pair grid, in lexicographic order (optima often sit on its edges).
    const Index se_last = m_p.edge_tolerances - 1, sw_last = m_p.min_workers - 1;
    for (const auto& [se, sw] : {std::pair{Index{0}, Index{0}}, std::pair{Index{0}, sw_last}, std::pair{se_last, Index{0}}, std::pair{se_last, sw_last}}) {
      if (best_se >= 0 && !(se > best_se || (se == best_se && sw > best_sw))) continue;  // duplicate corner
      const bool strict = best_se >= 0;
      if (best_se >= 0 && !block_may_improve(m_p.load(se, sw), m_p.edges - se, sw, best_time, strict)) continue;
      if (const auto t = pair_time(se, sw, best_time, strict)) {
        best_time = *t;
        best_se = se;
        best_sw = sw;
      }
    }
    // Best-first: the block with the smallest estimate next (ties: lexicographically first).
    struct entry {
      double key;
      block b;
      bool operator<(const entry& o) const {
        if (key != o.key) return key > o.key;
        return std::pair{b.se_lo, b.sw_lo} > std::pair{o.b.se_lo, o.b.sw_lo};
      }
    };
    std::vector<entry> heap;
    const auto push = [&](const block& b) {
      heap.push_back({estimate(b), b});
      std::push_heap(heap.begin(), heap.end());
    };
    push({0, se_last, 0, sw_last});
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end());
      const block b = heap.back().b;
      heap.pop_back();
      // Pairs of the block that precede the best pair may tie it; the others must beat it.
      const bool strict = best_se >= 0 && !(b.se_lo < best_se || (b.se_lo == best_se && b.sw_lo < best_sw));
      if (best_se >= 0 && !block_may_improve(m_p.load(b.se_lo, b.sw_lo), m_p.edges - b.se_hi, b.sw_hi, best_time, strict)) continue;
      if (b.se_lo == b.se_hi && b.sw_lo == b.sw_hi) {
        if (const auto t = pair_time(b.se_lo, b.sw_lo, best_time, strict)) {
          best_time = *t;
          best_se = b.se_lo;
          best_sw = b.sw_lo;
        }
        continue;
      }
      block lo = b, hi = b;  // halve the longer side
      if (b.se_hi - b.se_lo >= b.sw_hi - b.sw_lo) {
        lo.se_hi = (b.se_lo + b.se_hi) / 2;
        hi.se_lo = lo.se_hi + 1;
      } else {
        lo.sw_hi = (b.sw_lo + b.sw_hi) / 2;
        hi.sw_lo = lo.sw_hi + 1;
      }
      push(lo);
      push(hi);
    }
  }

  /// T̂(s_e, s_w) (eq. 51) if it passes `threshold` (< when strict, ≤ otherwise), else nothing.
  std::optional<double> pair_time(Index se, Index sw, double threshold, bool strict) {
    ++pairs_evaluated;
    const double load = m_p.load(se, sw);
    const Index n = m_p.edges, need = n - se;
    // 1. Bounds lo_i ≤ v_i ≤ hi_i on every edge value v_i = A_i + kth B_(i,·); drop the edges
    //    that surely miss the threshold.
    m_candidates.clear();
    for (Index i = 0; i < n; ++i) {
      const auto& e = m_edges[static_cast<std::size_t>(i)];
      const Index k = e.workers - sw;
      double lo = edge_lower_bound(e, load, k), hi = edge_upper_bound(e, load, k);
      cache_interval(e, load, k, lo, hi);
      if (passes(lo, threshold, strict)) m_candidates.push_back({lo, hi, i});
    }
    if (static_cast<Index>(m_candidates.size()) < need) return std::nullopt;
    // 2. T̂ = need-th smallest v lies in [L, U] (need-th smallest lo, hi): edges with hi < L are
    //    below it, edges with lo > U above it; only the others need their exact value.
    m_estimates.clear();
    for (const auto& c : m_candidates) m_estimates.push_back(c.lo);
    const double L = jncss_kth(m_estimates, need);
    m_estimates.clear();
    for (const auto& c : m_candidates) m_estimates.push_back(c.hi);
    const double U = jncss_kth(m_estimates, need);
    Index below = 0;
    m_edge_values.clear();
    for (const auto& c : m_candidates) {
      if (c.hi < L) {
        ++below;
        continue;
      }
      if (c.lo > U) continue;
      const auto& e = m_edges[static_cast<std::size_t>(c.edge)];
      const Index k = e.workers - sw;
      const double* cc = m_p.compute.data() + e.first;
      const double* o = m_p.offset.data() + e.first;
      m_values.clear();
      for (Index j = 0; j < e.workers; ++j) {
        const double x = jncss_worker_mean(cc[j], load, o[j]);
        if (passes(e.upload + x, threshold, strict)) m_values.push_back(x);
      }
      if (static_cast<Index>(m_values.size()) >= k) m_edge_values.push_back(e.upload + jncss_kth(m_values, k));
    }
    if (below + static_cast<Index>(m_edge_values.size()) < need) return std::nullopt;
    return jncss_kth(m_edge_values, need - below);
  }

  // How much of the pair grid was touched (benchmark counters).
  std::int64_t blocks_tested = 0, pairs_evaluated = 0, edges_counted = 0, caches_built = 0;

 private:
  static constexpr Index sample_size = 16;
  static constexpr Index extreme_ranks = 8;  // R: the R smallest and R largest c and o per edge
  static constexpr Index cache_rent = 32;    // exact counts of an edge before its threshold cache is (re)built
  struct block {
    Index se_lo, se_hi, sw_lo, sw_hi;
  };
  struct edge_summary {
    double upload = 0;
    std::size_t first = 0, extremes = 0, sample = 0;
    Index workers = 0, ranks = 0, samples = 0;
    // Threshold cache (see build_cache): valid for thresholds ≤ cache_threshold.
    double cache_threshold = -std::numeric_limits<double>::infinity();
    double cache_margin = 0, cache_min_compute = 0;
    Index cache_size = 0;   // workers with c > 0, thresholds at m_cache[first, first + cache_size)
    Index rent = 0;         // exact counts since the cache was last built
    std::vector<double> zero_compute;  // A_i + o_(i,j) of the workers with c = 0, ascending
  };

  static bool passes(double x, double threshold, bool strict) { return strict ? x < threshold : x <= threshold; }

  /// The r smallest (ascending) into low[0..r) and the r largest (ascending) into high[0..r).
  static void extreme_values(const double* v, Index m, Index r, double* low, double* high) {
    Index held = 0;
    for (Index j = 0; j < m; ++j) {
      const double x = v[j];
      if (held == r && !(x < low[r - 1])) continue;
      Index pos = held < r ? held++ : r - 1;
      for (; pos > 0 && x < low[pos - 1]; --pos) low[pos] = low[pos - 1];
      low[pos] = x;
    }
    held = 0;
    for (Index j = 0; j < m; ++j) {  // kept descending in high, reversed below
      const double x = v[j];
      if (held == r && !(x > high[r - 1])) continue;
      Index pos = held < r ? held++ : r - 1;
      for (; pos > 0 && x > high[pos - 1]; --pos) high[pos] = high[pos - 1];
      high[pos] = x;
    }
    std::reverse(high, high + r);
  }

  /// Value at rank `rank` (1-based) of c (which = 0) or o (which = 1) of edge e when it is one of
  /// the R extreme ranks; otherwise the nearest known rank below (lower = true) or above.
  double ranked(const edge_summary& e, int which, Index rank, bool lower) const {
    const double* low = m_extremes.data() + e.extremes + static_cast<std::size_t>(2 * which * e.ranks);
    const double* high = low + e.ranks;
    const Index top = e.workers - e.ranks + 1;  // first rank held in `high`
    if (rank <= e.ranks) return low[rank - 1];
    if (rank >= top) return high[rank - top];
    return lower ? low[e.ranks - 1] : high[0];
  }

  /// Bounds on A_i + kth_k B_(i,·)(load): kth(x + y) ≥ x_(r) + y_(k+1−r) and ≤ x_(r) + y_(k+m−r)
  /// (x = c·D, y = o; exact in floating point since fma rounds monotonically).
  double edge_lower_bound(const edge_summary& e, double load, Index k) const {
    double best = -std::numeric_limits<double>::infinity();
    for (Index r : {Index{1}, k, std::min(k, e.ranks), std::max<Index>(1, k + 1 - e.ranks)})
      best = std::max(best, jncss_worker_mean(ranked(e, 0, r, true), load, ranked(e, 1, k + 1 - r, true)));
    return e.upload + best;
  }
  double edge_upper_bound(const edge_summary& e, double load, Index k) const {
    const Index m = e.workers;
    double best = std::numeric_limits<double>::infinity();
    for (Index r : {m, k, std::max(k, m - e.ranks + 1), std::min(m, k + e.ranks - 1)})
      best = std::min(best, jncss_worker_mean(ranked(e, 0, r, false), load, ranked(e, 1, k + m - r, false)));
    return e.upload + best;
  }

  /// Does edge e reach A_i + kth_k B(load) ≤ threshold (< when strict)? −1 = surely not,
  /// 1 = surely, 0 = undecided by the bounds.
  int edge_bounds(const edge_summary& e, double load, Index k, double threshold, bool strict) const {
    if (!passes(edge_lower_bound(e, load, k), threshold, strict)) return -1;
    if (passes(edge_upper_bound(e, load, k), threshold, strict)) return 1;
    return 0;
  }

  template <bool Strict>
  static Index count_passing(const double* c, const double* o, std::size_t count, double upload, double load, double threshold) {
    Index passed = 0;
    for (std::size_t j = 0; j < count; ++j) {
      const double x = upload + jncss_worker_mean(c[j], load, o[j]);
      passed += Strict ? x < threshold : x <= threshold;
    }
    return passed;
  }

  /// Threshold cache of edge e at `threshold` T_c: for each worker with c > 0 the load t_j =
  /// (T_c − A_i − o_j)/c_j up to which it stays below T_c, sorted descending, with a margin μ
  /// covering every rounding (8u(|t_j| + 2(T_c + A_i + o_j)/c_j), u = 2^−53): at least k workers
  /// are surely below T_c at load D if D ≤ t_(k) − μ, fewer than k can be if D > t_(k) + μ. For
  /// T < T_c the pass side shifts by (T_c − T)/min c_j; the fail side stays valid. Workers with
  /// c = 0 are kept exactly (their time does not depend on D).
  void build_cache(edge_summary& e, double threshold) {
    if (m_cache.empty()) m_cache.resize(m_p.compute.size());
    const double* c = m_p.compute.data() + e.first;
    const double* o = m_p.offset.data() + e.first;
    double* t = m_cache.data() + e.first;
    constexpr double u = std::numeric_limits<double>::epsilon() / 2;
    e.cache_size = 0;
    e.cache_margin = 0;
    e.cache_min_compute = std::numeric_limits<double>::infinity();
    e.zero_compute.clear();
    for (Index j = 0; j < e.workers; ++j) {
      if (c[j] == 0) {
        e.zero_compute.push_back(e.upload + jncss_worker_mean(0, 0, o[j]));
        continue;
      }
      const double tj = ((threshold - e.upload) - o[j]) / c[j];
      t[e.cache_size++] = tj;
      e.cache_margin = std::max(e.cache_margin, 8 * u * (std::abs(tj) + 2 * (threshold + e.upload + o[j]) / c[j]));
      e.cache_min_compute = std::min(e.cache_min_compute, c[j]);
    }
    std::sort(t, t + e.cache_size, std::greater<>());
    std::sort(e.zero_compute.begin(), e.zero_compute.end());
    e.cache_threshold = threshold;
    e.rent = 0;
    ++caches_built;
  }

  /// Verdict of edge e's cache at (load, k, threshold): −1 surely fails, 1 surely passes, 0 unsure.
  int cache_verdict(const edge_summary& e, double load, Index k, double threshold, bool strict) const {
    if (!(threshold <= e.cache_threshold)) return 0;
    const auto& z = e.zero_compute;
    const auto below = strict ? std::lower_bound(z.begin(), z.end(), threshold) : std::upper_bound(z.begin(), z.end(), threshold);
    k -= static_cast<Index>(below - z.begin());
    if (k <= 0) return 1;
    if (k > e.cache_size) return -1;
    const double tk = m_cache[e.first + static_cast<std::size_t>(k - 1)];
    const double margin = 2 * e.cache_margin;
    if (load > tk + margin) return -1;
    double shift = 0;
    if (threshold < e.cache_threshold) {
      if (!z.empty()) return 0;  // a c = 0 worker may have crossed
      shift = (e.cache_threshold - threshold) / e.cache_min_compute * (1 + 1e-12);
    }
    if (load <= tk - margin - shift) return 1;
    return 0;
  }

  /// Narrows [lo, hi] ∋ v_i using edge e's cache (the pass/fail rules of cache_verdict solved for
  /// the threshold; shifts by (T_c − T)/c_min on the pass side, /c_max on the fail side).
  void cache_interval(const edge_summary& e, double load, Index k, double& lo, double& hi) const {
    if (!std::isfinite(e.cache_threshold) || !e.zero_compute.empty() || k > e.cache_size) return;
    constexpr double u = std::numeric_limits<double>::epsilon() / 2;
    const double tk = m_cache[e.first + static_cast<std::size_t>(k - 1)];
    const double margin = 2 * e.cache_margin, slack = 8 * u * std::abs(e.cache_threshold);
    const double c_max = ranked(e, 0, e.workers, false);
    if (tk - margin - load >= 0)
      hi = std::min(hi, e.cache_threshold - (tk - margin - load) * e.cache_min_compute / (1 + 1e-12) + slack);
    lo = std::max(lo, e.cache_threshold - (tk + margin - load) * c_max * (1 + 1e-12) - slack);
  }

  /// Counts the workers of e below the threshold in chunks, stopping once the answer is known.
  bool edge_count_passes(edge_summary& e, double load, Index k, double threshold, bool strict) {
    if (std::isfinite(threshold) && ++e.rent >= cache_rent) {
      build_cache(e, threshold);
      if (const int v = cache_verdict(e, load, k, threshold, strict)) return v > 0;
    }
    ++edges_counted;
    const double* c = m_p.compute.data() + e.first;
    const double* o = m_p.offset.data() + e.first;
    constexpr Index chunk = 128;
    Index passed = 0;
    for (Index j0 = 0; j0 < e.workers; j0 += chunk) {
      const Index len = std::min(chunk, e.workers - j0);
      passed += strict ? count_passing<true>(c + j0, o + j0, static_cast<std::size_t>(len), e.upload, load, threshold)
                       : count_passing<false>(c + j0, o + j0, static_cast<std::size_t>(len), e.upload, load, threshold);
      if (passed >= k) return true;
      if (passed + (e.workers - j0 - len) < k) return false;
    }
    return passed >= k;
  }

  /// H(load, b, d) ≤ threshold: at least `need` = n − b edges pass with k_i = m_i − d.
  bool block_may_improve(double load, Index need, Index sw, double threshold, bool strict) {
    ++blocks_tested;
    const Index n = m_p.edges;
    Index passed = 0, failed = 0;
    m_undecided.clear();
    for (Index i : m_order) {
      const auto& e = m_edges[static_cast<std::size_t>(i)];
      int verdict = edge_bounds(e, load, e.workers - sw, threshold, strict);
      if (verdict == 0) verdict = cache_verdict(e, load, e.workers - sw, threshold, strict);
      if (verdict > 0) ++passed;
      else if (verdict < 0) ++failed;
      else m_undecided.push_back(i);
    }
    if (passed >= need) return true;
    if (n - failed < need) return false;
    // Count the undecided edges, likeliest to settle the answer first: when most edges must pass,
    // the slowest-looking first (one more failure may end it), else the fastest-looking first.
    const bool fail_first = need - passed > static_cast<Index>(m_undecided.size()) / 2;
    const auto visit = [&](Index i) {
      auto& e = m_edges[static_cast<std::size_t>(i)];
      if (edge_count_passes(e, load, e.workers - sw, threshold, strict)) ++passed;
      else ++failed;
      return passed >= need || n - failed < need;
    };
    if (fail_first) {
      for (auto it = m_undecided.rbegin(); it != m_undecided.rend(); ++it)
        if (visit(*it)) break;
    } else {
      for (Index i : m_undecided)
        if (visit(i)) break;
    }
    return passed >= need;
  }

  /// Search-order heuristic (not a bound): H(D(a,c), b, d) computed on a sample of the edges
  /// (at most 64) and of each one's workers, with ranks scaled.
  double estimate(const block& b) {
    const double load = m_p.load(b.se_lo, b.sw_lo);
    m_estimates.clear();
    double sample[sample_size];
    for (Index i : m_sample_edges) {
      const auto& e = m_edges[static_cast<std::size_t>(i)];
      for (Index t = 0; t < e.samples; ++t)
        sample[t] = jncss_worker_mean(m_sample_compute[e.sample + static_cast<std::size_t>(t)], load,
                                      m_sample_offset[e.sample + static_cast<std::size_t>(t)]);
      std::sort(sample, sample + e.samples);
      const Index k = e.workers - b.sw_hi;
      const Index kq = std::max<Index>(1, (k * e.samples + e.workers - 1) / e.workers);
      m_estimates.push_back(std::clamp(e.upload + sample[kq - 1], edge_lower_bound(e, load, k), edge_upper_bound(e, load, k)));
    }
    const auto sampled = static_cast<Index>(m_sample_edges.size());
    const Index need = std::max<Index>(1, ((m_p.edges - b.se_hi) * sampled + m_p.edges - 1) / m_p.edges);
    return jncss_kth(m_estimates, need);
  }

  const jncss_problem& m_p;
  std::vector<edge_summary> m_edges;
  std::vector<Index> m_order;  // edges by ascending typical time
  std::vector<double> m_cache;     // threshold caches, laid out like the workers
  std::vector<double> m_extremes;  // per edge: c low R, c high R, o low R, o high R
  std::vector<double> m_sample_compute, m_sample_offset;
  std::vector<double> m_values, m_edge_values, m_estimates;
  std::vector<Index> m_undecided, m_sample_edges;
  struct candidate {
    double lo, hi;
    Index edge;
  };
  std::vector<candidate> m_candidates;
};

}  // namespace detail

/// T̂(s_e, s_w) of eq. (51): the optimum of sub-problem P2 (eq. 50) at fixed tolerances — the
/// (n − s_e)-th smallest over edges of A_i + the (m_i − s_w)-th smallest B_(i,j), at
/// D = K(s_e+1)(s_w+1)/Σm_i. Reads `model` (validated) and K ≥ 1; throws invalid_parameters on
/// a bad model, K < 1, or s_e ∉ [0, n), s_w ∉ [0, min m_i). Does not check code existence.
inline double jncss_pair_time(const runtime_model& model, Index partitions, Index edge_tolerance, Index worker_tolerance) {
  const auto p = detail::jncss_prepare(model, partitions, {.skip_nonexistent_codes = false});
  if (edge_tolerance < 0 || edge_tolerance >= p.edges)
    throw invalid_parameters("JNCSS: s_e = " + std::to_string(edge_tolerance) + " outside [0, n = " + std::to_string(p.edges) + ")");
  if (worker_tolerance < 0 || worker_tolerance >= p.min_workers)
    throw invalid_parameters("JNCSS: s_w = " + std::to_string(worker_tolerance) + " outside [0, min m_i = " +
                             std::to_string(p.min_workers) + ")");
  detail::jncss_solver solver(p);
  return *solver.pair_time(edge_tolerance, worker_tolerance, std::numeric_limits<double>::infinity(), false);
}

/// Algorithm 2 (JNCSS), exact: minimises P1 (eq. 47) over s_e ∈ [0, n), s_w ∈ [0, min m_i)
/// and the selections e, w, returning (ŝ_e, ŝ_w), T̂_tol, D and the exact-count selection.
/// Ties: the smallest T̂, then the lexicographically first (s_e, s_w); edges by (A_i + b_i, i),
/// workers by (B_(i,j), j). D may be fractional. Reads `model`; throws invalid_parameters when
/// model.validate() fails (the message names the node) or K < 1.
inline jncss_result jncss(const runtime_model& model, Index partitions, const jncss_options& options = {}) {
  const auto p = detail::jncss_prepare(model, partitions, options);
  jncss_result r;
  detail::jncss_solver solver(p);
  double t = 0;
  solver.solve(t, r.edge_tolerance, r.worker_tolerance);
  detail::jncss_select(p, r);
  r.searched_edge_tolerances = p.edge_tolerances;
  r.skipped_pairs = p.skipped_pairs;
  return r;
}

/// Algorithm 2 transcribed line by line, with the errata of spec §3.2 fixed (loop over [0, n) ×
/// [0, min m_i), arg min, ŝ_w in line 17, exact-count selection) — the reference that jncss()
/// is tested against. O(nm · N log m): every pair recomputes D and B and sorts every edge.
/// Same contract and result as jncss().
inline jncss_result jncss_literal(const runtime_model& model, Index partitions, const jncss_options& options = {}) {
  const auto p = detail::jncss_prepare(model, partitions, options);  // validation; K, m, which s_e exist
  const Index n = model.edge_count(), m = p.min_workers, N = model.total_workers();
  jncss_result r;
  r.time = std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> B(static_cast<std::size_t>(n));
  std::vector<double> b(static_cast<std::size_t>(n)), A(static_cast<std::size_t>(n)), edge_time(static_cast<std::size_t>(n));
  for (Index se = 0; se < n; ++se) {                                       // line 1: s_e ∈ [0, n)
    if (se >= p.edge_tolerances) break;                                   // no HGC code exists
    for (Index sw = 0; sw < m; ++sw) {                                     // line 1: s_w ∈ [0, m)
      const double D = detail::jncss_load(partitions, se, sw, N);          // (44)
      for (Index i = 0; i < n; ++i) {
        const auto si = static_cast<std::size_t>(i);
        A[si] = model.mean_edge_upload(i);                                 // line 7: A_i = τ_i/(1 − p_i)
        B[si].clear();
        for (const auto& w : model.workers[si])                            // lines 2–5: B_(i,j)
          B[si].push_back(detail::jncss_worker_mean(w.compute_per_partition, D, detail::jncss_worker_offset(w, A[si])));
        auto sorted = B[si];
        std::sort(sorted.begin(), sorted.end());
        b[si] = sorted[static_cast<std::size_t>(model.worker_count(i) - sw - 1)];  // line 6: (m_i − s_w)-th min
        edge_time[si] = A[si] + b[si];
      }
      auto sorted = edge_time;
      std::sort(sorted.begin(), sorted.end());
      const double t = sorted[static_cast<std::size_t>(n - se - 1)];      // line 9: (n − s_e)-th min
      if (t < r.time) {                                                    // lines 11–12: min, arg MIN
        r.time = t;
        r.edge_tolerance = se;
        r.worker_tolerance = sw;
      }
    }
  }
  // Lines 13–22 at (ŝ_e, ŝ_w), recomputing D, B, b_i, with exact counts.
  const Index se = r.edge_tolerance, sw = r.worker_tolerance;
  const double D = detail::jncss_load(partitions, se, sw, N);
  r.load = D;
  std::vector<Index> edge_order(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    const auto si = static_cast<std::size_t>(i);
    B[si].clear();
    for (const auto& w : model.workers[si])
      B[si].push_back(detail::jncss_worker_mean(w.compute_per_partition, D, detail::jncss_worker_offset(w, A[si])));
    auto sorted = B[si];
    std::sort(sorted.begin(), sorted.end());
    edge_time[si] = A[si] + sorted[static_cast<std::size_t>(model.worker_count(i) - sw - 1)];
  }
  std::iota(edge_order.begin(), edge_order.end(), Index{0});
  std::stable_sort(edge_order.begin(), edge_order.end(),
                   [&](Index x, Index y) { return edge_time[static_cast<std::size_t>(x)] < edge_time[static_cast<std::size_t>(y)]; });
  r.edge_selected.assign(static_cast<std::size_t>(n), false);
  r.worker_selected.assign(static_cast<std::size_t>(n), {});
  for (Index i = 0; i < n; ++i) r.worker_selected[static_cast<std::size_t>(i)].assign(static_cast<std::size_t>(model.worker_count(i)), false);
  for (Index rank = 0; rank < n - se; ++rank) {                            // line 14: e_i = 1
    const auto si = static_cast<std::size_t>(edge_order[static_cast<std::size_t>(rank)]);
    r.edge_selected[si] = true;
    std::vector<Index> worker_order(B[si].size());
    std::iota(worker_order.begin(), worker_order.end(), Index{0});
    std::stable_sort(worker_order.begin(), worker_order.end(),
                     [&](Index x, Index y) { return B[si][static_cast<std::size_t>(x)] < B[si][static_cast<std::size_t>(y)]; });
    for (Index j = 0; j < static_cast<Index>(B[si].size()) - sw; ++j)     // line 17: w_(i,j) = 1 (ŝ_w)
      r.worker_selected[si][static_cast<std::size_t>(worker_order[static_cast<std::size_t>(j)])] = true;
  }
  r.searched_edge_tolerances = p.edge_tolerances;
  r.skipped_pairs = p.skipped_pairs;
  return r;
}

/// f(n, r) of Lemma 1 (eq. 54): √((r−1)/(n(n−r+1))) + √((n−r)/(nr)) for r ∈ [1, n]; the
/// deviation of the r-th order statistic's mean from the r-th smallest mean is at most
/// f(n, r)·√(E Σ(X_i − X̄)²). Symmetric, f(n, r) = f(n, n+1−r). Throws invalid_parameters
/// unless 1 ≤ r ≤ n.
inline double order_statistic_factor(Index n, Index r) {
  if (n < 1 || r < 1 || r > n)
    throw invalid_parameters("Lemma 1: f(n = " + std::to_string(n) + ", r = " + std::to_string(r) + ") needs 1 <= r <= n");
  const auto nn = static_cast<double>(n), rr = static_cast<double>(r);
  return std::sqrt((rr - 1) / (nn * (nn - rr + 1))) + std::sqrt((nn - rr) / (nn * rr));
}

/// Δ_w^i of eq. (49), with m_i where the paper prints n (erratum), in closed form at load D:
/// the worker times T_tol^(i,j) = T_com,d^i + Y_ij share the edge's download, which cancels, so
///   (Δ_w^i)² = E Σ_j (T^(i,j) − T̄^(i,·))² = (1 − 1/m_i) Σ_j Var Y_ij + Σ_j (B_(i,j) − B̄_i)²,
///   Var Y_ij = 2τ_(i,j)² p_(i,j)/(1 − p_(i,j))² + 1/γ_(i,j)².
/// Reads `model` (validated); throws invalid_parameters for a bad model, edge or load.
inline double worker_dispersion(const runtime_model& model, Index edge, double load) {
  detail::jncss_validate(model);
  if (edge < 0 || edge >= model.edge_count())
    throw invalid_parameters("Theorem 3: edge " + std::to_string(edge) + " outside [0, n = " + std::to_string(model.edge_count()) + ")");
  if (!(load >= 0) || !std::isfinite(load)) throw invalid_parameters("Theorem 3: load D = " + std::to_string(load) + " must be finite and >= 0");
  const auto& ws = model.workers[static_cast<std::size_t>(edge)];
  const auto m = static_cast<double>(ws.size());
  double variance = 0, mean = 0, spread = 0;
  std::vector<double> b(ws.size());
  for (std::size_t j = 0; j < ws.size(); ++j) {
    const auto& w = ws[j];
    const double q = 1 - w.link_failure;
    variance += 2 * w.link_time * w.link_time * w.link_failure / (q * q) + 1 / (w.compute_rate * w.compute_rate);
    b[j] = model.mean_worker_time(edge, static_cast<Index>(j), load);
    mean += b[j] / m;
  }
  for (double x : b) spread += (x - mean) * (x - mean);  // Σ_j (B_(i,j) − B̄_i)²
  const double dispersion = std::sqrt((1 - 1 / m) * variance + spread);
  if (!std::isfinite(dispersion))
    throw invalid_parameters("Theorem 3: Δ_w of edge " + std::to_string(edge) + " overflows double at load D = " +
                             detail::format_g(load) + " (the model's times are too large to square)");
  return dispersion;
}

/// Δ_e of eq. (49) by Monte Carlo: the mean over `samples` iterations (sample_iteration at load
/// D) of Σ_i (T_tol^i − T̄)², T_tol^i = T_com,u^i + the (m_i − s_w)-th smallest worker arrival
/// (eq. 32) — an unbiased estimate of (Δ_e)², returned as its square root. Draws from `rng` only.
/// Throws invalid_parameters for a bad model, s_w ∉ [0, min m_i), load or samples < 1.
template <class Rng>
double edge_dispersion(const runtime_model& model, Index worker_tolerance, double load, Index samples, Rng& rng) {
  detail::jncss_validate(model);
  Index m_min = std::numeric_limits<Index>::max();
  for (const auto& ws : model.workers) m_min = std::min(m_min, static_cast<Index>(ws.size()));
  if (worker_tolerance < 0 || worker_tolerance >= m_min)
    throw invalid_parameters("Theorem 3: s_w = " + std::to_string(worker_tolerance) + " outside [0, min m_i = " + std::to_string(m_min) + ")");
  if (!(load >= 0) || !std::isfinite(load)) throw invalid_parameters("Theorem 3: load D = " + std::to_string(load) + " must be finite and >= 0");
  if (samples < 1) throw invalid_parameters("Theorem 3: " + std::to_string(samples) + " Monte-Carlo samples; need >= 1");
  const auto n = static_cast<std::size_t>(model.edge_count());
  std::vector<double> t(n);
  double total = 0;
  for (Index s = 0; s < samples; ++s) {
    const auto x = detail::sample_iteration_unchecked(model, [load](Index, Index) { return load; }, rng);  // model checked above
    double mean = 0;
    for (std::size_t i = 0; i < n; ++i) {
      t[i] = x.edge_upload[i] + detail::kth_smallest(x.worker_arrival[i], static_cast<Index>(x.worker_arrival[i].size()) - worker_tolerance);
      mean += t[i];
    }
    mean /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) total += (t[i] - mean) * (t[i] - mean);
  }
  const double dispersion = std::sqrt(total / static_cast<double>(samples));
  if (!std::isfinite(dispersion))
    throw invalid_parameters("Theorem 3: Δ_e overflows double (the model's times are too large to square)");
  return dispersion;
}

/// Theorem 3's bound (eq. 48) for a JNCSS result, with its parts.
struct jncss_gap_bound {
  double bound = 0;           ///< f(n, n−ŝ_e)·Δ_e + max_i f(m_i, m_i−ŝ_w)·Δ_w^i ≥ |E[T_tol] − T̂_tol|
  double edge_factor = 0;     ///< f(n, n − ŝ_e)
  double edge_dispersion = 0; ///< Δ_e (Monte-Carlo estimate)
  double worker_term = 0;     ///< max_i f(m_i, m_i − ŝ_w)·Δ_w^i
  std::vector<double> worker_dispersion;  ///< Δ_w^i, closed form
};

/// Theorem 3 (eqs. 48–49) at (ŝ_e, ŝ_w, D) of `result` (from jncss on `model`): bounds
/// |E[T_tol] − T̂_tol| — the form the paper's proof establishes (it states E|T_tol − T̂_tol|).
/// Δ_e is estimated with `samples` Monte-Carlo iterations drawn from `rng`. Throws as
/// edge_dispersion / worker_dispersion, or invalid_parameters if `result` does not fit `model`.
template <class Rng>
jncss_gap_bound jncss_gap(const runtime_model& model, const jncss_result& result, Index samples, Rng& rng) {
  detail::jncss_validate(model);
  const Index n = model.edge_count();
  if (result.edge_tolerance < 0 || result.edge_tolerance >= n)
    throw invalid_parameters("Theorem 3: ŝ_e = " + std::to_string(result.edge_tolerance) + " outside [0, n = " + std::to_string(n) + ")");
  jncss_gap_bound g;
  g.edge_factor = order_statistic_factor(n, n - result.edge_tolerance);
  g.edge_dispersion = edge_dispersion(model, result.worker_tolerance, result.load, samples, rng);
  for (Index i = 0; i < n; ++i) {
    const Index m = model.worker_count(i);
    g.worker_dispersion.push_back(worker_dispersion(model, i, result.load));
    g.worker_term = std::max(g.worker_term, order_statistic_factor(m, m - result.worker_tolerance) * g.worker_dispersion.back());
  }
  g.bound = g.edge_factor * g.edge_dispersion + g.worker_term;
  if (!std::isfinite(g.bound)) throw invalid_parameters("Theorem 3: the bound overflows double");
  return g;
}

}  // namespace gradcode
