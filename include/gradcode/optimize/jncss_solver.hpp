// SPDX-License-Identifier: MIT
// The branch and bound behind jncss() (tang2024 §IV-C, Algorithm 2 made exact and fast: the
// optimum of P1 over the (s_e, s_w) grid, eq. 51). Internal; its contract is jncss()'s.
// One header (~470 lines): one class whose bounds, caches and search share one state.
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
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <utility>
#include <vector>

#include "gradcode/core/types.hpp"
#include "gradcode/optimize/jncss_problem.hpp"

namespace gradcode {

namespace detail {

/// The r smallest of v[0..m) in the order `before` (std::less: the smallest, std::greater: the
/// largest), sorted by it, into keep[0..r); 1 <= r <= m. One pass, insertion into keep.
template <class Before>
void jncss_extremes(const double* v, std::size_t m, Index r, double* keep, Before before) {
  Index held = 0;
  for (std::size_t j = 0; j < m; ++j) {
    const double x = v[j];
    if (held == r && !before(x, keep[r - 1])) continue;
    Index pos = held < r ? held++ : r - 1;
    for (; pos > 0 && before(x, keep[pos - 1]); --pos) keep[pos] = keep[pos - 1];
    keep[pos] = x;
  }
}

/// k-th smallest (1-based) of `v` (reordered): one short scan when k is within 8 of either end,
/// otherwise nth_element.
inline double jncss_kth(std::vector<double>& v, Index k) {
  const auto size = static_cast<Index>(v.size());
  constexpr Index small = 8;
  if (k <= small || size - k + 1 <= small) {
    double keep[small];  // the r smallest (largest) seen, sorted
    if (k <= small) {
      jncss_extremes(v.data(), v.size(), k, keep, std::less<>{});
      return keep[k - 1];
    }
    const Index r = size - k + 1;
    jncss_extremes(v.data(), v.size(), r, keep, std::greater<>{});
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
    std::stable_sort(m_order.begin(), m_order.end(), [&](Index x, Index y) {
      return typical[static_cast<std::size_t>(x)] < typical[static_cast<std::size_t>(y)];
    });
    m_values.reserve(static_cast<std::size_t>(p.max_workers));
    m_edge_values.reserve(static_cast<std::size_t>(p.edges));
  }

  /// (T̂, ŝ_e, ŝ_w): the smallest T̂, lexicographically first pair among ties.
  void solve(double& best_time, Index& best_se, Index& best_sw) {
    best_time = std::numeric_limits<double>::infinity();
    best_se = best_sw = -1;
    // Seeds: the corners of the pair grid, in lexicographic order (optima often sit on its edges).
    const Index se_last = m_p.edge_tolerances - 1, sw_last = m_p.min_workers - 1;
    for (const auto& [se, sw] : {std::pair{Index{0}, Index{0}}, std::pair{Index{0}, sw_last}, std::pair{se_last, Index{0}},
                                 std::pair{se_last, sw_last}}) {
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
      if (best_se >= 0 && !block_may_improve(m_p.load(b.se_lo, b.sw_lo), m_p.edges - b.se_hi, b.sw_hi, best_time, strict))
        continue;
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
    Index cache_size = 0;              // workers with c > 0, thresholds at m_cache[first, first + cache_size)
    Index rent = 0;                    // exact counts since the cache was last built
    std::vector<double> zero_compute;  // A_i + o_(i,j) of the workers with c = 0, ascending
  };

  static bool passes(double x, double threshold, bool strict) { return strict ? x < threshold : x <= threshold; }

  /// The r smallest (ascending) into low[0..r) and the r largest (ascending) into high[0..r).
  static void extreme_values(const double* v, Index m, Index r, double* low, double* high) {
    jncss_extremes(v, static_cast<std::size_t>(m), r, low, std::less<>{});
    jncss_extremes(v, static_cast<std::size_t>(m), r, high, std::greater<>{});  // descending, reversed below
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
      if (verdict > 0)
        ++passed;
      else if (verdict < 0)
        ++failed;
      else
        m_undecided.push_back(i);
    }
    if (passed >= need) return true;
    if (n - failed < need) return false;
    // Count the undecided edges, likeliest to settle the answer first: when most edges must pass,
    // the slowest-looking first (one more failure may end it), else the fastest-looking first.
    const bool fail_first = need - passed > static_cast<Index>(m_undecided.size()) / 2;
    const auto visit = [&](Index i) {
      auto& e = m_edges[static_cast<std::size_t>(i)];
      if (edge_count_passes(e, load, e.workers - sw, threshold, strict))
        ++passed;
      else
        ++failed;
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
  std::vector<Index> m_order;      // edges by ascending typical time
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

}  // namespace gradcode
