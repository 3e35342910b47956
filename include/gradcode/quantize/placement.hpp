// SPDX-License-Identifier: MIT
// Data distribution stage of li-skoglund §III / Bitar et al. [22]: sample i goes to d_i of the n
// workers, either pair-wise balanced (every pair i ≠ i' shares exactly d_i d_i'/n workers,
// eq. (39), the property Lemma 2 uses) or uniformly at random (the approximation §V simulates).
//
// Algorithm (pair-wise balanced). The centred incidence vectors x_i − (d_i/n)·1 of samples with
// d_i < n must be mutually orthogonal in Rⁿ and orthogonal to 1, so at most n − 1 such samples can
// exist in ANY design. We build designs for n = 2^k and d_i = n/2^{c_i}: workers are the points
// of F₂^k, sample i is the affine subspace {x : A_i x = b_i} of codimension c_i, and the row
// spaces V_i of the A_i intersect pairwise only in {0} (a partial spread, chosen greedily, widest
// first). Then two samples meet in 2^{k−c_i−c_{i'}} = d_i d_{i'}/n workers exactly; the offsets b_i
// are picked to even out the workers' loads. This needs Σ_i (n/d_i − 1) ≤ n − 1 over samples
// with d_i < n (the nonzero vectors of F₂^k the V_i use); samples with d_i = n go everywhere.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/assignment.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/quantize/counter_rng.hpp"

namespace gradcode {

/// How samples are spread over workers.
enum class placement_kind {
  random,             ///< each sample on d_i workers drawn uniformly without replacement (li-skoglund §V)
  pairwise_balanced,  ///< exact design: every pair shares d_i d_i'/n workers (§III, eq. (39))
};

/// What a placement is: required fields plus the kind.
struct placement_params {
  Index workers = 0;      ///< n
  Index samples = 0;      ///< m
  Index replication = 0;  ///< d: every sample on d workers (homogeneous scheme, eq. (19)); used when `replications` is empty
  std::vector<Index> replications{};  ///< d_i per sample (heterogeneous, Fig. 3); m entries
  placement_kind kind = placement_kind::random;
  std::uint64_t seed = 0;  ///< random placement: which workers (per-sample counter streams)
};

/// How far a placement is from pair-wise balance (eq. (39)) and how even its loads are.
struct pairwise_balance_report {
  Index pairs = 0;                ///< sample pairs i < i' examined
  double max_deviation = 0;       ///< max |#shared(i, i') − d_i d_i'/n|
  double mean_abs_deviation = 0;  ///< mean |#shared(i, i') − d_i d_i'/n|
  Index min_load = 0;             ///< min_j |S_j|
  Index max_load = 0;             ///< max_j |S_j|
  /// True when every pair shares exactly d_i d_i'/n workers.
  bool exact() const noexcept { return max_deviation < 1e-9; }
};

namespace detail {

/// d_i for every sample from the params (validated). n, m and Σ_i d_i (the entries of the
/// assignment) are bounded by core/types.hpp's limits before anything is allocated.
inline std::vector<Index> placement_replications(const placement_params& p) {
  if (p.workers < 1) throw invalid_parameters("placement: n = " + std::to_string(p.workers) + " workers; need n >= 1");
  if (p.workers > limits::max_nodes)
    throw invalid_parameters("placement: n = " + std::to_string(p.workers) +
                             " workers exceeds limits::max_nodes = " + std::to_string(limits::max_nodes));
  if (p.samples < 1) throw invalid_parameters("placement: m = " + std::to_string(p.samples) + " samples; need m >= 1");
  if (p.samples > limits::max_partitions)
    throw invalid_parameters("placement: m = " + std::to_string(p.samples) +
                             " samples exceeds limits::max_partitions = " + std::to_string(limits::max_partitions));
  std::vector<Index> d;
  auto too_many = [&](const std::string& total) {
    return invalid_parameters("placement: the samples' copies Σ d_i = " + total + " exceed limits::max_support_entries = " +
                              std::to_string(limits::max_support_entries) + "; fewer samples or smaller d_i would fit");
  };
  if (p.replications.empty()) {
    if (p.replication < 1 || p.replication > p.workers)
      throw invalid_parameters("placement: d = " + std::to_string(p.replication) + " must be in [1, n = " +
                               std::to_string(p.workers) + "] (or give replications, one d_i per sample)");
    if (p.replication > limits::max_support_entries / p.samples)  // m·d without forming it
      throw too_many(std::to_string(p.samples) + "·" + std::to_string(p.replication));
    d.assign(static_cast<std::size_t>(p.samples), p.replication);
  } else {
    if (static_cast<Index>(p.replications.size()) != p.samples)
      throw invalid_parameters("placement: " + std::to_string(p.replications.size()) +
                               " replications d_i for m = " + std::to_string(p.samples) + " samples; need one per sample");
    Index total = 0;  // each d_i ≤ n ≤ 2^24 and m ≤ 2^24: the sum cannot overflow
    for (std::size_t i = 0; i < p.replications.size(); ++i) {
      if (p.replications[i] < 1 || p.replications[i] > p.workers)
        throw invalid_parameters("placement: sample " + std::to_string(i) + " has d_i = " + std::to_string(p.replications[i]) +
                                 ", outside [1, n = " + std::to_string(p.workers) + "]");
      total += p.replications[i];
    }
    if (total > limits::max_support_entries) throw too_many(std::to_string(total));
    d = p.replications;
  }
  return d;
}

/// The pair-wise balanced construction costs about n·k operations per sample with d_i < n (its
/// coset choice reads every worker's load); beyond this many the search is refused rather than
/// left to run for minutes.
inline constexpr Index pairwise_work_limit = Index{1} << 28;

/// A c-dimensional subspace of F₂^k none of whose nonzero vectors is in `used` (indexed by the
/// vector), as c basis vectors; empty when the bounded search finds none.
inline std::vector<std::uint64_t> find_free_subspace(int k, int c, const std::vector<bool>& used, long long& budget) {
  std::vector<std::uint64_t> basis, span{0};  // span: every vector of the current subspace
  const std::uint64_t size = std::uint64_t{1} << k;
  auto extend = [&](auto&& self, std::uint64_t from) -> bool {
    if (static_cast<int>(basis.size()) == c) return true;
    for (std::uint64_t v = from; v < size && budget > 0; ++v, --budget) {
      if (used[v]) continue;
      bool ok = true;
      for (auto s : span)
        if (s != 0 && ((s ^ v) == 0 || used[s ^ v])) {  // v ∈ span, or v + s already taken
          ok = false;
          break;
        }
      if (!ok) continue;
      const std::size_t old = span.size();
      for (std::size_t t = 0; t < old; ++t) span.push_back(span[t] ^ v);
      basis.push_back(v);
      if (self(self, v + 1)) return true;
      basis.pop_back();
      span.resize(old);
    }
    return false;
  };
  if (!extend(extend, 1)) basis.clear();
  return basis;
}

inline assignment pairwise_balanced_placement(Index n, const std::vector<Index>& d) {
  auto suggest = std::string("; use placement_kind::random (the approximation li-skoglund §V simulates)");
  std::vector<int> codim(d.size(), 0);
  Index spread_use = 0, nontrivial = 0;
  const bool pow2 = std::has_single_bit(static_cast<std::uint64_t>(n));
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (d[i] == n) continue;
    ++nontrivial;
    if (!pow2 || n % d[i] != 0 || !std::has_single_bit(static_cast<std::uint64_t>(n / d[i])))
      throw invalid_parameters("pairwise_balanced placement is built for n = 2^k and d_i = n/2^c; sample " + std::to_string(i) +
                               " has d_i = " + std::to_string(d[i]) + " with n = " + std::to_string(n) + suggest);
    codim[i] = std::countr_zero(static_cast<std::uint64_t>(n / d[i]));
    spread_use += n / d[i] - 1;
  }
  if (nontrivial > n - 1)
    throw invalid_parameters("no pairwise_balanced placement exists for " + std::to_string(nontrivial) +
                             " samples with d_i < n = " + std::to_string(n) +
                             ": their centred incidence vectors must be orthogonal in R^n, so at most n − 1 = " +
                             std::to_string(n - 1) + " of them fit" + suggest);
  if (spread_use > n - 1)
    throw invalid_parameters(
        "pairwise_balanced placement: Σ(n/d_i − 1) = " + std::to_string(spread_use) +
        " over samples with d_i < n exceeds n − 1 = " + std::to_string(n - 1) +
        " (each sample uses n/d_i − 1 of the n − 1 nonzero vectors of F2^k); fewer samples or larger d_i would fit" + suggest);
  if (nontrivial > pairwise_work_limit / n)
    throw invalid_parameters("pairwise_balanced placement: " + std::to_string(nontrivial) + " samples with d_i < n on n = " +
                             std::to_string(n) + " workers take n·(samples) = " + std::to_string(nontrivial * n) +
                             " steps, more than " + std::to_string(pairwise_work_limit) + suggest);
  const int k = std::countr_zero(static_cast<std::uint64_t>(n));
  std::vector<bool> used(static_cast<std::size_t>(n), false);
  used[0] = true;
  std::vector<Index> order(d.size());
  std::iota(order.begin(), order.end(), Index{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](Index a, Index b) { return codim[static_cast<std::size_t>(a)] > codim[static_cast<std::size_t>(b)]; });
  std::vector<std::vector<Index>> holdings(static_cast<std::size_t>(n));
  std::vector<Index> load(static_cast<std::size_t>(n), 0);
  for (Index i : order) {
    const int c = codim[static_cast<std::size_t>(i)];
    if (c == 0) {
      for (Index j = 0; j < n; ++j) {
        holdings[static_cast<std::size_t>(j)].push_back(i);
        ++load[static_cast<std::size_t>(j)];
      }
      continue;
    }
    long long budget = 2'000'000;
    const auto basis = find_free_subspace(k, c, used, budget);
    if (basis.empty())
      throw invalid_parameters("pairwise_balanced placement: found no " + std::to_string(c) + "-dimensional subspace of F2^" +
                               std::to_string(k) + " disjoint from the ones already used (sample " + std::to_string(i) +
                               ", d_i = " + std::to_string(d[static_cast<std::size_t>(i)]) +
                               "); fewer samples or larger d_i would fit" + suggest);
    std::vector<std::uint64_t> span{0};
    for (auto v : basis) {
      const std::size_t old = span.size();
      for (std::size_t t = 0; t < old; ++t) span.push_back(span[t] ^ v);
    }
    for (auto v : span) used[v] = true;
    // Coset b ∈ F₂^c for the new sample. Any b keeps the design exact, and Σ_j |S_j|² is the
    // same for every exact design (= Σ_i d_i + Σ_{i≠i'} d_i d_i'/n), so only higher moments of the
    // loads can be evened out: take the b with the smallest Σ_{j in coset} |S_j|³ (ties: smallest b).
    auto syndrome = [&](Index j) {
      std::uint64_t s = 0;
      for (std::size_t r = 0; r < basis.size(); ++r)
        s |= static_cast<std::uint64_t>(std::popcount(basis[r] & static_cast<std::uint64_t>(j)) & 1) << r;
      return s;
    };
    std::vector<double> coset_cost(std::size_t{1} << c, 0.0);
    for (Index j = 0; j < n; ++j) {
      const auto l = static_cast<double>(load[static_cast<std::size_t>(j)]);
      coset_cost[syndrome(j)] += l * l * l;
    }
    const auto b = static_cast<std::uint64_t>(std::min_element(coset_cost.begin(), coset_cost.end()) - coset_cost.begin());
    for (Index j = 0; j < n; ++j)
      if (syndrome(j) == b) {
        holdings[static_cast<std::size_t>(j)].push_back(i);
        ++load[static_cast<std::size_t>(j)];
      }
  }
  return assignment(static_cast<Index>(d.size()), std::move(holdings));
}

inline assignment random_placement(Index n, const std::vector<Index>& d, std::uint64_t seed) {
  std::vector<std::vector<Index>> holdings(static_cast<std::size_t>(n));
  std::vector<Index> perm(static_cast<std::size_t>(n)), picks;
  std::iota(perm.begin(), perm.end(), Index{0});
  for (std::size_t i = 0; i < d.size(); ++i) {
    // Partial Fisher–Yates on 0..n−1 with sample i's own stream: its workers do not depend on
    // the other samples, so the placement of sample i is reproducible on its own.
    const auto rng = counter_rng::stream(seed, rng_domain::placement, i);
    picks.clear();
    for (Index t = 0; t < d[i]; ++t) {
      const auto pick = t + static_cast<Index>(rng.below(static_cast<std::uint64_t>(t), static_cast<std::uint64_t>(n - t)));
      std::swap(perm[static_cast<std::size_t>(t)], perm[static_cast<std::size_t>(pick)]);
      picks.push_back(pick);
      holdings[static_cast<std::size_t>(perm[static_cast<std::size_t>(t)])].push_back(static_cast<Index>(i));
    }
    // Undo the swaps (last first) so perm is 0..n−1 again: O(d_i) per sample instead of an O(n)
    // reset, so the whole placement costs O(Σ d_i) rather than O(m·n).
    for (Index t = d[i] - 1; t >= 0; --t)
      std::swap(perm[static_cast<std::size_t>(t)], perm[static_cast<std::size_t>(picks[static_cast<std::size_t>(t)])]);
  }
  return assignment(static_cast<Index>(d.size()), std::move(holdings));
}

}  // namespace detail

/// The data distribution stage: an assignment with nodes = the n workers and partitions = the m
/// samples (S_j = partitions_of(j), d_i = holders_of(i).size()). Throws invalid_parameters on
/// n, m, d_i out of range, and for pairwise_balanced when no design of the supported family
/// exists (the message says which constraint failed and suggests the random kind).
inline assignment place_samples(const placement_params& params) {
  const auto d = detail::placement_replications(params);
  if (params.kind == placement_kind::pairwise_balanced) return detail::pairwise_balanced_placement(params.workers, d);
  return detail::random_placement(params.workers, d, params.seed);
}

/// Largest m(m − 1)/2·⌈n/64⌉ (word comparisons) check_pairwise_balance takes on: a few seconds.
inline constexpr Index pairwise_check_limit = Index{1} << 32;

/// Checks eq. (39) on every pair of samples (O(m² n/64)); reports the deviation and the loads.
/// Throws invalid_input when m(m − 1)/2·⌈n/64⌉ exceeds pairwise_check_limit (checked before the
/// m·⌈n/64⌉-word incidence bitmap is allocated).
inline pairwise_balance_report check_pairwise_balance(const assignment& placement) {
  const Index n = placement.nodes(), m = placement.partitions();
  const Index words = (n + 63) / 64;
  if (m > (Index{1} << 32))
    throw invalid_input("check_pairwise_balance: " + std::to_string(m) + " samples; at most 2^32 can be checked pair by pair");
  const Index pairs = m % 2 == 0 ? m / 2 * (m - 1) : (m - 1) / 2 * m;  // m(m − 1)/2, no overflow for m ≤ 2^32
  if (pairs > 0 && words > pairwise_check_limit / pairs)
    throw invalid_input("check_pairwise_balance: " + std::to_string(m) + " samples on " + std::to_string(n) +
                        " workers need m(m - 1)/2·⌈n/64⌉ word comparisons, more than " + std::to_string(pairwise_check_limit) +
                        "; check a subset of the samples");
  std::vector<std::uint64_t> bits(static_cast<std::size_t>(m * words), 0);
  std::vector<double> d(static_cast<std::size_t>(m));
  for (Index i = 0; i < m; ++i) {
    const auto holders = placement.holders_of(i);
    d[static_cast<std::size_t>(i)] = static_cast<double>(holders.size());
    for (Index j : holders) bits[static_cast<std::size_t>(i * words + j / 64)] |= std::uint64_t{1} << (j % 64);
  }
  pairwise_balance_report r;
  double sum = 0;
  for (Index i = 0; i < m; ++i)
    for (Index t = i + 1; t < m; ++t) {
      int shared = 0;
      for (Index w = 0; w < words; ++w)
        shared += std::popcount(bits[static_cast<std::size_t>(i * words + w)] & bits[static_cast<std::size_t>(t * words + w)]);
      const double dev =
          std::abs(shared - d[static_cast<std::size_t>(i)] * d[static_cast<std::size_t>(t)] / static_cast<double>(n));
      r.max_deviation = std::max(r.max_deviation, dev);
      sum += dev;
      ++r.pairs;
    }
  r.mean_abs_deviation = r.pairs ? sum / static_cast<double>(r.pairs) : 0.0;
  r.min_load = m;
  for (Index j = 0; j < n; ++j) {
    r.min_load = std::min(r.min_load, placement.load(j));
    r.max_load = std::max(r.max_load, placement.load(j));
  }
  return r;
}

}  // namespace gradcode
