// SPDX-License-Identifier: MIT
// Fractional repetition gradient code (Tandon et al. 2017 §III-A, reference [14] of tang2024),
// for any n ≥ s + 1: n nodes in q = ⌊n/(s+1)⌋ groups of consecutive nodes, one contiguous block of
// partitions per group; any s stragglers leave every group able to send its block's sum.
//
// Layout (issue 16, items 2–3: a perfectly conditioned code at the minimum load wherever one
// exists, and a stable fallback where it does not).
//   * Groups. q = ⌊n/(s+1)⌋ groups; the first n mod q have ⌈n/q⌉ nodes, the others ⌊n/q⌋ (all
//     ≥ s + 1, differing by at most one). Group j is nodes [N_j, N_{j+1}), N_j = j⌊n/q⌋ + min(j, n mod q),
//     and holds partitions [P_j, P_{j+1}), P_j = ⌊N_j K / n⌋ — K_j ≈ K·g_j/n, proportional to its size.
//     When (s + 1) | n every group has s + 1 nodes and P_j = ⌊jK/q⌋: the classic code, unchanged.
//   * A group of exactly s + 1 nodes is classic FR: every member holds the whole range and sends its
//     plain sum (coefficient 1; decode amplification A = 1 for every pattern).
//   * A group of g > s + 1 nodes is a small cyclic repetition code: g nodes, K_j partitions,
//     tolerance s, on the cyclic support (detail::cyclic_support{g, K_j, s}: member t holds s + 1
//     of the group's g blocks) with B from null_space_encoding (the spectral construction). Its load
//     is ≈ K_j(s+1)/g ≈ K(s+1)/n, so every partition sits on exactly s + 1 nodes and the average
//     load is the minimum K(s+1)/n; the largest load is ≤ ⌈K(s+1)/n⌉ + 1 (= s + 1 when K = n, =
//     c(s+1) when K = c·n). Needs K ≥ n (then K_j ≥ g: every member a block of its own).
//   * Why balanced groups: the decode is block diagonal (the minimum-norm solve splits by group), so
//     a pattern's A is Σ_j (K_j/K)·A_j(pattern ∩ group j) ≤ max_j A_j; the worst pattern puts all s
//     stragglers in one group, A = (K_j/K)·A_j + 1 − K_j/K (n = 40, s = 10, K = n: 47.16 measured
//     over the 1001 such patterns, = 14/40 · 132.9 + 26/40). A_j of a cyclic group grows with g − s.
//     Worst within-group A at s stragglers (condition_of_encoding; exhaustive unless marked), K_j = g:
//       g = s + 2: 3.41 (s = 2), 16.0 (s = 10), 35 (s = 20), 78 (s = 40)
//       g = s + 3: 52.9 (s = 20), 187 (s = 40);   g = s + 4: 133 (s = 10)
//       g = s + 5: 573 (s = 20, sampled);   g = s + 10: 4.8e5 (s = 40, sampled)
//     Float accepts A ≤ ~210, double ≤ ~1.1e6 (condition_report.hpp), so the minimum-load code is
//     stable on every pattern when n mod (s + 1) is small relative to q — not always (q = 1, i.e.
//     n < 2(s + 1), is plain cyclic repetition of n nodes) — and on random patterns far more often
//     (they rarely crowd one group; correlated stragglers, e.g. a rack of consecutive ids, do).
//   * Fallback (fractional_repetition_params::max_amplification > 0): the constructor measures each
//     distinct oversized group shape (g, K_j) — every pattern of s stragglers when C(g, s) ≤ 20000,
//     else 2000 seeded samples (group(j).exhaustive says which; a sampled shape kept cyclic may hide
//     a worse pattern) — and where the worst within-group A exceeds the limit, that group's members
//     hold the group's whole range instead (A = 1). Then the partitions are re-shared so that the
//     busiest node is as light as possible: the least L with Σ_j cap_j(L) ≥ K, cap_j = L for a
//     replicated or classic group, ⌊L·g_j/(s+1)⌋ for a cyclic one (the cyclic shapes are measured
//     again at their new K_j, and replicated too if they now exceed the limit). That is the least
//     extra load that keeps every group stable within this family (n = 40, s = 10, K = n, limit 50:
//     the 14-node group is replicated, load 12 instead of 11; proportional K_j would give 14).
//     group(j), replicated_groups() and worst_group_amplification() report what happened, so the
//     caller learns it when building the code. When nothing is replicated the layout stays as above.
//
// Numerically safe region: classic and replicated groups decode every pattern of ≤ s stragglers with
// A = 1 at any n; cyclic groups as measured above (tests/codes/fractional_repetition_test.cpp measures
// the whole code with condition_of at n = 100, 200, s = 10 and decodes every pattern exhaustively for
// small (s + 1) ∤ n cases in float and double).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/codes/linear_code.hpp"
#include "gradcode/codes/null_space.hpp"
#include "gradcode/core/condition_report.hpp"
#include "gradcode/detail/cyclic_support.hpp"

namespace gradcode {

struct fractional_repetition_params {
  Index nodes = 0;       ///< n ≥ s + 1 (any; (s + 1) | n gives the classic code of Tandon et al.)
  Index partitions = 0;  ///< K: ≥ n/(s+1) when (s + 1) | n, else ≥ n (Tandon et al. use K = n)
  Index tolerance = 0;   ///< s
  /// Stability limit for the groups of more than s + 1 nodes (not the decoder's
  /// linear_code::max_amplification()): 0 = no limit and nothing measured; > 0 = measure each such
  /// group's worst decode amplification at s stragglers and replicate the group's whole range on its
  /// members where it exceeds this (+∞ measures without replicating). E.g. 50 keeps float's relative
  /// error ≤ ~2.4e-5 (4·ε·A). Must not be negative or NaN.
  double max_amplification = 0;
};

/// One group of consecutive nodes and its contiguous range of partitions (header comment).
struct fractional_repetition_group {
  enum class layout {
    repetition,  ///< g = s + 1: every member holds the range, coefficient 1 (Tandon et al. §III-A)
    cyclic,      ///< g > s + 1: cyclic repetition code of g nodes on the range, load ≈ K_j(s+1)/g
    replicated,  ///< g > s + 1, cyclic too ill-conditioned for max_amplification: every member holds the range (A = 1)
  };
  Index first_node = 0;       ///< N_j: nodes [first_node, first_node + nodes)
  Index nodes = 0;            ///< g_j ≥ s + 1
  Index first_partition = 0;  ///< P_j: partitions [first_partition, first_partition + partitions)
  Index partitions = 0;       ///< K_j
  layout kind = layout::repetition;
  /// Worst within-group decode amplification A at s stragglers of the group as built: 1 for
  /// repetition and replicated groups; measured for cyclic groups when max_amplification > 0, else 0
  /// (not measured).
  double amplification = 1;
  /// Worst A of the cyclic layout of this group's shape, when measured (max_amplification > 0 and
  /// g > s + 1; for a replicated group, the value that exceeded the limit), else 0.
  double cyclic_amplification = 0;
  /// cyclic_amplification examined every pattern of s stragglers (false: 2000 seeded samples).
  bool exhaustive = true;
};

template <class Scalar>
class fractional_repetition_code : public linear_code<Scalar> {
 public:
  /// Patterns of the cyclic layout examined exhaustively up to this many (C(g, s)), else sampled.
  static constexpr std::uint64_t exhaustive_pattern_limit = 20000;
  static constexpr Index sampled_patterns = 2000;

  /// Throws invalid_parameters when n < 1, s ∉ [0, n), K < n/(s+1) ((s + 1) | n) or K < n
  /// (otherwise), n × K above the limits, or max_amplification negative or NaN; `options` as
  /// linear_code. With max_amplification > 0 it costs up to 20000 solves of (g − s) × K_j per
  /// distinct oversized group shape (two shapes at most in practice).
  explicit fractional_repetition_code(const fractional_repetition_params& params, const decode_options& options = {})
      : fractional_repetition_code(build(params), options) {}

  /// q = ⌊n/(s+1)⌋ groups (n/(s+1) when (s + 1) | n; then node i belongs to group i/(s+1)).
  Index groups() const noexcept { return static_cast<Index>(m_groups.size()); }
  /// Group j, 0 ≤ j < groups(); throws invalid_input otherwise.
  const fractional_repetition_group& group(Index j) const { return m_groups[check_group(j)]; }
  std::span<const fractional_repetition_group> group_list() const noexcept { return m_groups; }
  /// g_j, nodes in group j (s + 1, or ⌊n/q⌋ / ⌈n/q⌉ when (s + 1) ∤ n); throws invalid_input for j out of range.
  Index group_size(Index j) const { return group(j).nodes; }
  /// The group node `node` belongs to; throws invalid_input for a node outside [0, n).
  Index group_of(Index node) const {
    this->partitions_of(node);  // range check (invalid_input naming the node)
    const auto it = std::upper_bound(m_groups.begin(), m_groups.end(), node,
                                     [](Index i, const fractional_repetition_group& g) { return i < g.first_node; });
    return static_cast<Index>(it - m_groups.begin()) - 1;
  }
  /// Groups of more than s + 1 nodes that max_amplification made replicate their whole range.
  Index replicated_groups() const noexcept {
    return static_cast<Index>(std::count_if(m_groups.begin(), m_groups.end(), [](const fractional_repetition_group& g) {
      return g.kind == fractional_repetition_group::layout::replicated;
    }));
  }
  /// max_j group(j).amplification: an upper bound on condition_of(*this).worst (the decode splits by
  /// group, header comment). 1 when every group is repetition or replicated; 0 when a cyclic group
  /// was not measured (max_amplification = 0).
  double worst_group_amplification() const noexcept {
    double worst = 1;
    for (const auto& g : m_groups) {
      if (g.amplification == 0) return 0;
      worst = std::max(worst, g.amplification);
    }
    return worst;
  }
  /// Every measured cyclic shape was examined on every pattern of s stragglers (true when none was measured).
  bool group_amplification_exhaustive() const noexcept {
    return std::all_of(m_groups.begin(), m_groups.end(), [](const fractional_repetition_group& g) { return g.exhaustive; });
  }

 private:
  struct built {
    code_definition definition;
    std::vector<fractional_repetition_group> groups;
  };

  fractional_repetition_code(built b, const decode_options& options)
      : linear_code<Scalar>(std::move(b.definition), options), m_groups(std::move(b.groups)) {}

  std::size_t check_group(Index j) const {
    if (j < 0 || j >= groups())
      throw invalid_input("fractional repetition: group " + std::to_string(j) + " out of range [0, " + std::to_string(groups()) +
                          ")");
    return static_cast<std::size_t>(j);
  }

  static built build(const fractional_repetition_params& p) {
    const Index n = p.nodes, K = p.partitions, s = p.tolerance;
    if (n < 1) throw invalid_parameters("fractional repetition: n = " + std::to_string(n) + "; need n >= 1");
    if (s < 0 || s >= n)
      throw invalid_parameters("fractional repetition: s = " + std::to_string(s) + " must be in [0, n = " + std::to_string(n) +
                               ")");
    if (!(p.max_amplification >= 0))
      throw invalid_parameters("fractional repetition: max_amplification = " + detail::format_g(p.max_amplification) +
                               " must be >= 0 (0: no limit; e.g. 50 for float)");
    detail::check_code_size("fractional repetition", n, K);  // before anything is allocated
    const Index q = n / (s + 1);
    const bool classic = n % (s + 1) == 0;
    if (classic && K < q)
      throw invalid_parameters("fractional repetition: K = " + std::to_string(K) + " partitions for " + std::to_string(q) +
                               " groups; need K >= n/(s+1) = " + std::to_string(q));
    if (!classic && K < n)
      throw invalid_parameters("fractional repetition: K = " + std::to_string(K) + " partitions for n = " + std::to_string(n) +
                               " nodes, s = " + std::to_string(s) +
                               ": when (s + 1) does not divide n the groups of more than s + 1 "
                               "nodes are cyclic codes and need K >= n (K = " +
                               std::to_string(n) + " fits)");

    using layout = fractional_repetition_group::layout;
    built out;
    const Index base = n / q, larger = n % q;
    const auto first_node = [&](Index j) { return j * base + std::min(j, larger); };
    auto& groups = out.groups;
    groups.resize(static_cast<std::size_t>(q));
    for (Index j = 0; j < q; ++j) {  // nodes, and partitions proportional to the group size
      auto& grp = groups[static_cast<std::size_t>(j)];
      grp.first_node = first_node(j);
      grp.nodes = first_node(j + 1) - grp.first_node;
      grp.first_partition = grp.first_node * K / n;  // P_j = ⌊N_j K / n⌋; n·K fits (check_code_size)
      grp.partitions = first_node(j + 1) * K / n - grp.first_partition;
      grp.kind = grp.nodes == s + 1 ? layout::repetition : layout::cyclic;
      grp.amplification = grp.kind == layout::repetition ? 1 : 0;
    }
    // g > s + 1 (so s ≥ 1, and K ≥ n gives K_j ≥ g): the group's cyclic repetition code.
    const auto cyclic_encoding = [s](Index g, Index Kj) {
      const detail::cyclic_support cyc{g, Kj, s};
      return std::make_pair(cyc.support(), null_space_encoding(cyc.support(), s));
    };
    // Worst within-group A of each measured shape (g, K_j), with its exhaustive flag.
    std::map<std::pair<Index, Index>, std::pair<double, bool>> measured;
    // Measures the cyclic groups (max_amplification > 0) and replicates those above the limit;
    // true when it replicated one.
    const auto limit_groups = [&] {
      bool replicated = false;
      for (auto& grp : groups) {
        if (grp.kind != layout::cyclic || !(p.max_amplification > 0)) continue;
        auto it = measured.find({grp.nodes, grp.partitions});
        if (it == measured.end()) {
          condition_options o;
          o.stragglers = s;
          o.exhaustive_limit = exhaustive_pattern_limit;
          o.samples = sampled_patterns;
          const condition_report r = condition_of_encoding(cyclic_encoding(grp.nodes, grp.partitions).second, o);
          // A pattern that does not span would be a construction defect: count it as unbounded.
          const double worst = r.not_spanning ? std::numeric_limits<double>::infinity() : r.worst;
          it = measured.emplace(std::make_pair(grp.nodes, grp.partitions), std::make_pair(worst, r.exhaustive)).first;
        }
        grp.cyclic_amplification = it->second.first;
        grp.exhaustive = it->second.second;
        grp.amplification = grp.cyclic_amplification;
        if (grp.cyclic_amplification > p.max_amplification) {
          grp.kind = layout::replicated;
          grp.amplification = 1;
          replicated = true;
        }
      }
      return replicated;
    };
    // After a replication, re-share the partitions so that the busiest node is as light as this
    // layout allows: the least L with Σ_j cap_j(L) ≥ K, cap_j(L) = L for a group whose members hold
    // its whole range and ⌊L·g_j/(s+1)⌋ for a cyclic group (its load is ⌈(s+1)K_j/g_j⌉). Proportional
    // K_j would put ≈ K·g_j/n on the replicated members instead (e.g. n = 40, s = 10, limit 50: 14
    // → 12). The new K_j of the cyclic groups are measured again (a shape may now exceed the limit).
    if (limit_groups()) {
      do {
        const auto cap = [&](const fractional_repetition_group& g, Index L) {
          return g.kind == layout::cyclic ? L * g.nodes / (s + 1) : L;
        };
        const auto total = [&](Index L) {
          Index sum = 0;
          for (const auto& g : groups) sum += cap(g, L);
          return sum;
        };
        Index lo = 1, hi = K;  // total(K) ≥ K; binary search for the least L with total(L) ≥ K
        while (lo < hi) {
          const Index mid = lo + (hi - lo) / 2;
          if (total(mid) >= K)
            hi = mid;
          else
            lo = mid + 1;
        }
        for (auto& g : groups) g.partitions = cap(g, lo);
        // Trim the excess one partition at a time, round robin from the last group, keeping a
        // cyclic group at K_j ≥ g_j (Σ of those minima ≤ n ≤ K, so this ends).
        Index excess = total(lo) - K;
        for (Index j = q - 1; excess > 0; j = j == 0 ? q - 1 : j - 1) {
          auto& g = groups[static_cast<std::size_t>(j)];
          if (g.partitions > (g.kind == layout::cyclic ? g.nodes : 1)) --g.partitions, --excess;
        }
        Index next = 0;
        for (auto& g : groups) g.first_partition = next, next += g.partitions;
      } while (limit_groups());
    }

    std::vector<std::vector<Index>> holdings(static_cast<std::size_t>(n));
    std::vector<Eigen::Triplet<double, Index>> triplets;
    for (const auto& grp : groups) {
      if (grp.kind != layout::cyclic) {  // every member holds the whole range, coefficient 1
        for (Index i = grp.first_node; i < grp.first_node + grp.nodes; ++i)
          for (Index k = grp.first_partition; k < grp.first_partition + grp.partitions; ++k) {
            holdings[static_cast<std::size_t>(i)].push_back(k);
            triplets.emplace_back(i, k, 1.0);
          }
        continue;
      }
      const auto [local, Bj] = cyclic_encoding(grp.nodes, grp.partitions);
      for (Index t = 0; t < grp.nodes; ++t)
        for (Index k : local.partitions_of(t))
          holdings[static_cast<std::size_t>(grp.first_node + t)].push_back(grp.first_partition + k);
      for (Index t = 0; t < Bj.outerSize(); ++t)
        for (sparse_matrix<double>::InnerIterator it(Bj, t); it; ++it)
          triplets.emplace_back(grp.first_node + it.row(), grp.first_partition + it.col(), it.value());
    }
    sparse_matrix<double> B(n, K);
    B.setFromTriplets(triplets.begin(), triplets.end());
    out.definition = {assignment(K, std::move(holdings)), std::move(B), s};
    return out;
  }

  std::vector<fractional_repetition_group> m_groups;
};

}  // namespace gradcode
