// SPDX-License-Identifier: MIT
// Two-stage dynamic partial gradient code of one epoch (wang TSDCFL §II-2, §4.2, Lemmas 1–2,
// eqs. (3), (4), (16), (17)): stage 1 runs uncoded on M1 of the M workers; at the deadline T_comp
// the K − K_c partitions not yet covered are coded over the M − M_c available workers so that any
// M − M_c − s of them recover their sum; the master adds the stage-1 sum (vector C of T3).
//
// Algorithm.
//   Stage 1: the M1 stage-1 workers (sorted by id) get disjoint consecutive blocks of the K
//   partitions, block sizes n_m ∝ W_m (largest remainder); a worker sends the plain sum of its
//   block (B1 row = indicator of the block).
//   Deadline: the M_c finished workers cover K_c partitions; C solves C·B1[M_c, K_c] = 1 (T3; for
//   disjoint blocks C = 1 on workers with a non-empty block).
//   Stage 2 (only when K_c < K): the R = K − K_c remaining partitions, renumbered 0..R−1. The
//   M1 − M_c unfinished stage-1 workers keep their blocks (one copy of each remaining partition);
//   the R·s further copies ((K − K_c)(s + 1) − Σ n_l, eq. (16)) go to the M − M1 new workers with
//   loads ∝ W_m (largest remainder, capped at R) by cyclic consecutive placement, so every
//   remaining partition sits on s + 1 distinct stage-2 workers (eq. (17)). B2 on that support is
//   the arbitrary-support null-space construction (codes/null_space.hpp), which is the paper's
//   auxiliary matrix A (T1: any s + 1 columns independent) with the vector D of T2: any
//   M − M_c − s stage-2 rows have 1 in their span (Lemma 1's span condition, eq. (4)).
//   Master: Σ_k g_k = Σ_{m finished} C_m·(stage-1 message m) + a_F·(stage-2 messages of F).
//
// One codec (core/codec.hpp, issue 14): stage_two_code is a gradcode::codec over the M workers of
// the epoch (tests/dynamic/two_stage_test.cpp static_asserts it). The two message sets need no
// second decode signature: the finished workers and the stage-2 workers are disjoint, so each
// worker sends the master one message per epoch (encode() picks stage 1 or 2 by its role) and the
// master's sum Σ_m C_m·(stage-1 message m) + Σ_j a_j·(stage-2 message j) is one linear decode over
// (ids, messages) whose plan carries both coefficient sets. tolerance() = s counts stragglers among
// the M − M_c stage-2 workers: the finished workers delivered before stage 2 existed, and a pattern
// without one of them (one with a non-empty block) is not decodable.
//
// Numerically safe region: that of null_space.hpp (stage-2 node count ≤ 100, s ≤ 6; measured in
// tests/dynamic/two_stage_test.cpp); outside it the stage-2 decoder reports not_decodable.
// One header (~720 lines): the epoch code and its stage-2 code share the placement and the decode path (one codec).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/codes/heterogeneous.hpp"
#include "gradcode/codes/linear_code.hpp"
#include "gradcode/core/assignment.hpp"
#include "gradcode/core/codec.hpp"
#include "gradcode/core/decoding_plan.hpp"
#include "gradcode/core/decoding_solver.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/pattern.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/detail/weighted_sum.hpp"
#include "gradcode/dynamic/history.hpp"

namespace gradcode {

/// What one epoch's two-stage code is.
struct two_stage_params {
  std::vector<double> throughputs;       ///< W_m > 0 of all M workers (eq. (16)); M = size
  Index partitions = 0;                  ///< K
  std::vector<Index> stage_one_workers;  ///< the M1 workers started in stage 1: distinct ids in [0, M)
  std::uint64_t seed = 1;                ///< seed of the null-space construction of B2
};

/// How the stage-2 code is decoded; all defaulted.
struct two_stage_options {
  decode_options decode;  ///< residual / amplification acceptance of the stage-2 decode
};

namespace detail {
/// Loads from proportional_loads must lie in [0, cap] and sum to `total`: they become block
/// bounds and write positions, so a violation is thrown, never used (invalid_parameters).
inline void check_loads(std::span<const Index> loads, Index total, Index cap, const char* where) {
  Index sum = 0;
  for (std::size_t j = 0; j < loads.size(); ++j) {
    if (loads[j] < 0 || loads[j] > cap || sum > total - loads[j])
      throw invalid_parameters(std::string("two-stage code: ") + where + " load " + std::to_string(loads[j]) + " of node " +
                               std::to_string(j) + " is outside [0, " + std::to_string(cap) + "] or the loads exceed " +
                               std::to_string(total));
    sum += loads[j];
  }
  if (sum != total)
    throw invalid_parameters(std::string("two-stage code: ") + where + " loads sum to " + std::to_string(sum) + ", not " +
                             std::to_string(total));
}

/// Elements a column-major block spans in memory, first to last (0 when it has no columns).
template <class Scalar>
Index memory_extent(const Eigen::Ref<const matrix<Scalar>>& m) {
  return m.cols() > 0 && m.rows() > 0 ? (m.cols() - 1) * m.outerStride() + m.rows() : 0;
}

inline std::string ids_to_string(std::span<const Index> ids) {
  std::string s = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i]);
  }
  s += '}';
  return s;
}
}  // namespace detail

template <class Scalar>
class stage_two_code;

/// Stage 1 of an epoch: who computes which block, their uncoded messages, and the transition to
/// stage 2 at the deadline. Immutable; safe for concurrent const use.
template <class Scalar>
class two_stage_code {
 public:
  /// Throws invalid_parameters when K ∉ [1, limits::max_partitions], M ∉ [1, limits::max_nodes], a
  /// W_m is not positive and finite, or the stage-1 list is empty, repeats a worker or names one
  /// outside [0, M). Any positive finite throughputs work: only their ratios are used.
  explicit two_stage_code(two_stage_params params, const two_stage_options& options = {})
      : m_throughputs(std::move(params.throughputs)),
        m_partitions(params.partitions),
        m_stage_one(std::move(params.stage_one_workers)),
        m_seed(params.seed),
        m_options(options) {
    const Index M = workers();
    if (M < 1) throw invalid_parameters("two-stage code: no workers (throughputs is empty)");
    if (M > limits::max_nodes)
      throw invalid_parameters("two-stage code: M = " + std::to_string(M) +
                               " workers exceeds limits::max_nodes = " + std::to_string(limits::max_nodes));
    if (m_partitions < 1) throw invalid_parameters("two-stage code: K = " + std::to_string(m_partitions) + "; need K >= 1");
    if (m_partitions > limits::max_partitions)  // checked before the per-partition owner table is allocated
      throw invalid_parameters("two-stage code: K = " + std::to_string(m_partitions) +
                               " exceeds limits::max_partitions = " + std::to_string(limits::max_partitions));
    for (std::size_t m = 0; m < m_throughputs.size(); ++m)
      if (!(m_throughputs[m] > 0) || !std::isfinite(m_throughputs[m]))
        throw invalid_parameters("two-stage code: worker " + std::to_string(m) + " has throughput W = " +
                                 detail::format_g(m_throughputs[m]) + "; throughputs must be positive and finite");
    if (m_stage_one.empty())
      throw invalid_parameters("two-stage code: no stage-1 workers; need 1 <= M1 <= M = " + std::to_string(M));
    std::sort(m_stage_one.begin(), m_stage_one.end());
    for (std::size_t j = 0; j < m_stage_one.size(); ++j) {
      if (m_stage_one[j] < 0 || m_stage_one[j] >= M)
        throw invalid_parameters("two-stage code: stage-1 worker " + std::to_string(m_stage_one[j]) +
                                 " is outside [0, M = " + std::to_string(M) + ")");
      if (j > 0 && m_stage_one[j] == m_stage_one[j - 1])
        throw invalid_parameters("two-stage code: stage-1 worker " + std::to_string(m_stage_one[j]) + " is listed twice");
    }
    // Uncoded stage 1: disjoint consecutive blocks with n_m ∝ W_m (ratios only: W near DBL_MAX
    // would otherwise make ΣW = ∞ and every share ∞/∞).
    std::vector<double> w;
    for (Index m : m_stage_one) w.push_back(m_throughputs[static_cast<std::size_t>(m)]);
    const auto loads = proportional_loads(m_partitions, detail::relative_throughputs(w), m_partitions);
    detail::check_loads(loads, m_partitions, m_partitions, "stage 1");
    m_block_begin.assign(static_cast<std::size_t>(M), 0);
    m_block_end.assign(static_cast<std::size_t>(M), 0);
    Index pos = 0;
    for (std::size_t j = 0; j < m_stage_one.size(); ++j) {
      const auto m = static_cast<std::size_t>(m_stage_one[j]);
      m_block_begin[m] = pos;
      pos += loads[j];
      m_block_end[m] = pos;
    }
    m_owner.assign(static_cast<std::size_t>(m_partitions), -1);
    for (Index m : m_stage_one)
      for (Index k = m_block_begin[static_cast<std::size_t>(m)]; k < m_block_end[static_cast<std::size_t>(m)]; ++k)
        m_owner[static_cast<std::size_t>(k)] = m;
  }

  /// M.
  Index workers() const noexcept { return static_cast<Index>(m_throughputs.size()); }
  /// K.
  Index partitions() const noexcept { return m_partitions; }
  /// The M1 stage-1 workers, increasing.
  std::span<const Index> stage_one_workers() const noexcept { return m_stage_one; }
  const std::vector<double>& throughputs() const noexcept { return m_throughputs; }
  /// The seed of B2's null-space construction (two_stage_params::seed).
  std::uint64_t seed() const noexcept { return m_seed; }
  const two_stage_options& options() const noexcept { return m_options; }
  bool is_stage_one(Index worker) const {
    check_worker(worker);
    return std::binary_search(m_stage_one.begin(), m_stage_one.end(), worker);
  }
  /// n_m: partitions worker m computes in stage 1 (0 for workers not started in stage 1).
  Index stage_one_load(Index worker) const {
    const auto m = static_cast<std::size_t>(check_worker(worker));
    return m_block_end[m] - m_block_begin[m];
  }
  /// First partition of worker m's stage-1 block [first, first + load).
  Index stage_one_first(Index worker) const { return m_block_begin[static_cast<std::size_t>(check_worker(worker))]; }
  /// The stage-1 worker holding partition k.
  Index owner(Index partition) const {
    if (partition < 0 || partition >= m_partitions)
      throw invalid_input("partition " + std::to_string(partition) + " is outside [0, K = " + std::to_string(m_partitions) + ")");
    return m_owner[static_cast<std::size_t>(partition)];
  }

  /// Stage-1 message of `worker`: the plain sum of its block's columns of the d × K `partials`.
  /// Throws invalid_input when the worker is not a stage-1 worker, on shapes, or a non-finite sum.
  void encode_stage_one(Index worker, const Eigen::Ref<const matrix<Scalar>>& partials, Eigen::Ref<vector<Scalar>> out) const {
    if (!is_stage_one(worker))
      throw invalid_input("encode_stage_one: worker " + std::to_string(worker) + " was not started in stage 1", worker);
    if (partials.cols() != m_partitions)
      throw invalid_input(
          "encode_stage_one: partials have " + std::to_string(partials.cols()) + " columns, K = " + std::to_string(m_partitions),
          worker);
    if (out.size() != partials.rows())
      throw invalid_input("encode_stage_one: output has length " + std::to_string(out.size()) +
                              ", gradients have d = " + std::to_string(partials.rows()),
                          worker);
    // An out inside partials would be read after it is (partly) written: a wrong message.
    if (detail::overlaps(out.data(), out.size(), partials.data(), detail::memory_extent(partials)))
      throw invalid_input("encode_stage_one: the output overlaps the partial gradients", worker);
    const auto m = static_cast<std::size_t>(worker);
    out = partials.middleCols(m_block_begin[m], m_block_end[m] - m_block_begin[m]).rowwise().sum();
    if (!out.allFinite())
      throw invalid_input(
          "encode_stage_one: worker " + std::to_string(worker) + "'s message is not finite (NaN/Inf in its block)", worker);
  }
  vector<Scalar> encode_stage_one(Index worker, const Eigen::Ref<const matrix<Scalar>>& partials) const {
    vector<Scalar> out(partials.rows());
    encode_stage_one(worker, partials, out);
    return out;
  }

  /// The deadline T_comp has passed and the stage-1 workers `finished` (any order) have delivered:
  /// builds stage 2 tolerating s = `straggler_tolerance` stragglers among the M − M_c stage-2
  /// workers (not coded when K_c = K). Throws invalid_input on a finished id that is not a
  /// stage-1 worker or repeats, invalid_parameters when s < 0 or, with K_c < K, s > M − M1 (each
  /// remaining partition needs s copies on distinct new workers).
  stage_two_code<Scalar> stage_two(std::span<const Index> finished, Index straggler_tolerance) const {
    return stage_two_code<Scalar>(*this, finished, straggler_tolerance);
  }

 private:
  Index check_worker(Index worker) const {
    if (worker < 0 || worker >= workers())
      throw invalid_input("worker id " + std::to_string(worker) + " is outside [0, M = " + std::to_string(workers()) + ")",
                          worker);
    return worker;
  }

  std::vector<double> m_throughputs;
  Index m_partitions;
  std::vector<Index> m_stage_one;
  std::uint64_t m_seed;
  two_stage_options m_options;
  std::vector<Index> m_block_begin, m_block_end;  // per worker (empty block for non-stage-1)
  std::vector<Index> m_owner;                     // per partition
};

/// Stage 2 of an epoch and the master's decode: built by two_stage_code::stage_two. A
/// gradcode::codec over the M workers (header comment): encode / decodable / plan / decode take
/// global worker ids. Immutable; stage-2 decoding plans are cached per pattern (safe for
/// concurrent const use). Copies start with a cold cache.
template <class Scalar>
class stage_two_code {
 public:
  stage_two_code(const two_stage_code<Scalar>& stage_one, std::span<const Index> finished, Index straggler_tolerance)
      : m_workers(stage_one.workers()),
        m_partitions(stage_one.partitions()),
        m_tolerance(straggler_tolerance),
        m_decode_options(stage_one.options().decode) {
    const Index M = m_workers, K = m_partitions;
    if (straggler_tolerance < 0)
      throw invalid_parameters("two-stage code: straggler tolerance s = " + std::to_string(straggler_tolerance) + " is negative");
    pattern done(M);
    for (Index m : finished) {
      if (m < 0 || m >= M)
        throw invalid_input("stage_two: finished worker " + std::to_string(m) + " is outside [0, M = " + std::to_string(M) + ")",
                            m);
      if (!stage_one.is_stage_one(m))
        throw invalid_input("stage_two: worker " + std::to_string(m) + " reported as finished but was not started in stage 1", m);
      if (done.contains(m)) throw invalid_input("stage_two: finished worker " + std::to_string(m) + " is listed twice", m);
      done.insert(m);
    }
    m_finished = done.ids();
    m_local.assign(static_cast<std::size_t>(M), -1);
    for (Index m : stage_one.stage_one_workers())
      if (!done.contains(m)) m_stage_two.push_back(m);  // unfinished stage-1 workers first
    const Index unfinished = static_cast<Index>(m_stage_two.size());
    std::vector<Index> fresh;
    for (Index m = 0; m < M; ++m)
      if (!stage_one.is_stage_one(m)) fresh.push_back(m);
    for (Index m : fresh) m_stage_two.push_back(m);
    for (std::size_t j = 0; j < m_stage_two.size(); ++j)
      m_local[static_cast<std::size_t>(m_stage_two[j])] = static_cast<Index>(j);

    // K_c and the vector C of T3: C·B1[finished, covered] = 1.
    std::vector<bool> covered(static_cast<std::size_t>(K), false);
    for (Index m : m_finished)
      for (Index k = stage_one.stage_one_first(m); k < stage_one.stage_one_first(m) + stage_one.stage_one_load(m); ++k)
        covered[static_cast<std::size_t>(k)] = true;
    m_global_partition.clear();
    std::vector<Index> local_partition(static_cast<std::size_t>(K), -1);
    for (Index k = 0; k < K; ++k) {
      if (covered[static_cast<std::size_t>(k)]) {
        m_covered.push_back(k);
      } else {
        local_partition[static_cast<std::size_t>(k)] = static_cast<Index>(m_global_partition.size());
        m_global_partition.push_back(k);
      }
    }
    {
      matrix<double> rows = matrix<double>::Zero(static_cast<Index>(m_finished.size()), static_cast<Index>(m_covered.size()));
      for (std::size_t j = 0; j < m_finished.size(); ++j) {
        const Index first = stage_one.stage_one_first(m_finished[j]), load = stage_one.stage_one_load(m_finished[j]);
        for (Index k = first; k < first + load; ++k) {
          const auto pos = std::lower_bound(m_covered.begin(), m_covered.end(), k) - m_covered.begin();
          rows(static_cast<Index>(j), static_cast<Index>(pos)) = 1;
        }
      }
      m_stage_one_coefficients = vector<double>::Zero(static_cast<Index>(m_finished.size()));
      if (!m_covered.empty()) {
        const auto sol = solve_decoding_coefficients(rows);
        // Disjoint blocks make T3 exact (C = 1 on non-empty blocks); anything else is a bug here.
        if (!(sol.residual <= 1e-12))
          throw not_decodable("stage 1: C·B1 = 1 has residual " + detail::format_g(sol.residual), m_finished.size(),
                              m_finished.size());
        m_stage_one_coefficients = sol.coefficients;
        m_stage_one_residual = sol.residual;
      }
    }

    const Index R = remaining();
    if (R == 0) {  // K_c = K: no coding (§4.2)
      fill_holdings(stage_one);
      return;
    }
    const Index fresh_count = static_cast<Index>(fresh.size());
    if (straggler_tolerance > fresh_count)
      throw invalid_parameters("two-stage code: stage 2 cannot tolerate s = " + std::to_string(straggler_tolerance) +
                               " stragglers: each of the K - K_c = " + std::to_string(R) +
                               " remaining partitions needs s = " + std::to_string(straggler_tolerance) +
                               " further copies on distinct new workers, and only M - M1 = " + std::to_string(fresh_count) +
                               " workers were held back (s <= " + std::to_string(fresh_count) + " would fit)");
    std::vector<std::vector<Index>> holdings(m_stage_two.size());
    for (Index j = 0; j < unfinished; ++j) {  // unfinished stage-1 workers keep their blocks
      const Index m = m_stage_two[static_cast<std::size_t>(j)];
      for (Index k = stage_one.stage_one_first(m); k < stage_one.stage_one_first(m) + stage_one.stage_one_load(m); ++k)
        holdings[static_cast<std::size_t>(j)].push_back(local_partition[static_cast<std::size_t>(k)]);
    }
    // The stage-2 support holds R(s + 1) partition copies (eq. (17)); bound it before building.
    if (straggler_tolerance + 1 > limits::max_support_entries / R)
      throw invalid_parameters(
          "two-stage code: stage 2 would place (K - K_c)(s + 1) = " + std::to_string(R) + "·" +
          std::to_string(straggler_tolerance + 1) +
          " partition copies, more than limits::max_support_entries = " + std::to_string(limits::max_support_entries) +
          " (s <= " + std::to_string(limits::max_support_entries / R - 1) + " would fit)");
    if (straggler_tolerance > 0) {
      std::vector<double> w;
      for (Index m : fresh) w.push_back(stage_one.throughputs()[static_cast<std::size_t>(m)]);
      // eq. (16): n_m = ((K − K_c)(s + 1) − Σ_l n_l)·W_m / Σ W, with Σ_l n_l = K − K_c.
      m_fresh_loads = proportional_loads(R * straggler_tolerance, detail::relative_throughputs(w), R);
      detail::check_loads(m_fresh_loads, R * straggler_tolerance, R, "stage 2");
      Index pos = 0;
      for (Index j = 0; j < fresh_count; ++j)
        for (Index t = 0; t < m_fresh_loads[static_cast<std::size_t>(j)]; ++t, ++pos)
          holdings[static_cast<std::size_t>(unfinished + j)].push_back(pos % R);
    } else {
      m_fresh_loads.assign(static_cast<std::size_t>(fresh_count), 0);
    }
    m_code.emplace(assignment(R, std::move(holdings)), straggler_tolerance, stage_one.seed(), stage_one.options().decode);
    fill_holdings(stage_one);
  }

  /// M.
  Index workers() const noexcept { return m_workers; }
  /// K.
  Index partitions() const noexcept { return m_partitions; }
  /// True when stage 2 codes anything (K_c < K).
  bool coded() const noexcept { return m_code.has_value(); }
  /// s_<i>: stragglers tolerated among the stage-2 workers.
  Index tolerance() const noexcept { return m_tolerance; }
  /// The M_c stage-1 workers that finished by the deadline, increasing.
  std::span<const Index> finished_workers() const noexcept { return m_finished; }
  /// The K_c partitions they covered, increasing.
  std::span<const Index> covered_partitions() const noexcept { return m_covered; }
  /// The K − K_c partitions left to stage 2, increasing (stage-2 partition j is global
  /// remaining_partitions()[j]).
  std::span<const Index> remaining_partitions() const noexcept { return m_global_partition; }
  Index remaining() const noexcept { return static_cast<Index>(m_global_partition.size()); }
  /// The M − M_c stage-2 workers: unfinished stage-1 workers (increasing), then the M − M1 new
  /// ones (increasing). Their position here is their node index in code().
  std::span<const Index> stage_two_workers() const noexcept { return m_stage_two; }
  /// C of T3 (node order of finished_workers()).
  const vector<double>& stage_one_coefficients() const noexcept { return m_stage_one_coefficients; }
  /// Responders among the stage-2 workers that always suffice: M − M_c − s (0 when not coded).
  Index responders_needed() const noexcept { return coded() ? static_cast<Index>(m_stage_two.size()) - m_tolerance : 0; }
  /// Position of `worker` among stage_two_workers(), −1 if it is not one.
  Index stage_two_index(Index worker) const noexcept {
    return worker >= 0 && worker < m_workers ? m_local[static_cast<std::size_t>(worker)] : -1;
  }
  /// The stage-2 code over node indices of stage_two_workers() and partitions 0..R−1. Precondition:
  /// coded().
  const linear_code<Scalar>& code() const {
    if (!m_code) throw invalid_input("stage 2 is not coded: the finished stage-1 workers covered all K partitions");
    return *m_code;
  }
  /// Partitions (global ids, increasing) that `worker` computes in stage 2; empty when it is not
  /// a stage-2 worker or nothing is coded.
  std::vector<Index> stage_two_partitions(Index worker) const {
    std::vector<Index> out;
    const Index j = stage_two_index(worker);
    if (j < 0 || !m_code) return out;
    for (Index k : m_code->support().partitions_of(j)) out.push_back(m_global_partition[static_cast<std::size_t>(k)]);
    return out;
  }
  Index stage_two_load(Index worker) const {
    const Index j = stage_two_index(worker);
    return j < 0 || !m_code ? 0 : m_code->load(j);
  }
  /// Loads n_m of the M − M1 new workers (eq. (16)), in the order of stage_two_workers().
  std::span<const Index> new_worker_loads() const noexcept { return m_fresh_loads; }

  /// Stage-2 message of `worker`: Σ_k B2_{m,k} g_k over the remaining partitions it holds, read
  /// from the full d × K `partials`. Throws invalid_input when nothing is coded, the worker is not
  /// a stage-2 worker, on shapes, or on a non-finite message.
  void encode_stage_two(Index worker, const Eigen::Ref<const matrix<Scalar>>& partials, Eigen::Ref<vector<Scalar>> out) const {
    const Index j = stage_two_node(worker, "encode_stage_two");
    if (partials.cols() != m_partitions)
      throw invalid_input(
          "encode_stage_two: partials have " + std::to_string(partials.cols()) + " columns, K = " + std::to_string(m_partitions),
          worker);
    if (out.size() != partials.rows())
      throw invalid_input("encode_stage_two: output has length " + std::to_string(out.size()) +
                              ", gradients have d = " + std::to_string(partials.rows()),
                          worker);
    if (detail::overlaps(out.data(), out.size(), partials.data(), detail::memory_extent(partials)))
      throw invalid_input("encode_stage_two: the output overlaps the partial gradients", worker);
    out.setZero();
    for (typename sparse_matrix<double>::InnerIterator it(m_code->encoding_matrix(), j); it; ++it)
      out += static_cast<Scalar>(it.value()) * partials.col(m_global_partition[static_cast<std::size_t>(it.col())]);
    if (!out.allFinite())
      throw invalid_input(
          "encode_stage_two: worker " + std::to_string(worker) + "'s message is not finite (NaN/Inf in a partition it holds)",
          worker);
  }
  vector<Scalar> encode_stage_two(Index worker, const Eigen::Ref<const matrix<Scalar>>& partials) const {
    vector<Scalar> out(partials.rows());
    encode_stage_two(worker, partials, out);
    return out;
  }
  /// Same from only the partitions the worker holds: `held` is d × stage_two_load(worker), columns
  /// in the order of stage_two_partitions(worker).
  void encode_stage_two_held(Index worker, const Eigen::Ref<const matrix<Scalar>>& held, Eigen::Ref<vector<Scalar>> out) const {
    m_code->encode_held(stage_two_node(worker, "encode_stage_two_held"), held, out);
  }

  // --- gradcode::codec over the M workers of the epoch (header comment) ----------------------
  using scalar_type = Scalar;
  using plan_type = decoding_plan<Scalar>;

  /// M: every worker of the epoch is a node (the finished stage-1 workers and the stage-2 ones).
  Index nodes() const noexcept { return m_workers; }
  /// Scalars per message for gradients of length d: every message is one d-vector.
  Index message_length(Index d) const noexcept { return d; }
  /// The partitions (global ids, ascending) of the message node `worker` sends this epoch: its
  /// stage-1 block for a finished worker, stage_two_partitions() for a stage-2 worker (empty when
  /// nothing is coded). Throws invalid_input when worker ∉ [0, M).
  std::span<const Index> partitions_of(Index worker) const {
    return m_holdings[static_cast<std::size_t>(check_worker(worker, "partitions_of"))];
  }
  /// |partitions_of(worker)|.
  Index load(Index worker) const { return static_cast<Index>(partitions_of(worker).size()); }

  /// The message `worker` sends the master this epoch, from the full d × K `partials`: the plain
  /// sum of its block for a finished stage-1 worker (two_stage_code::encode_stage_one), else its
  /// stage-2 message (encode_stage_two). Throws invalid_input on a bad id, on shapes, `out`
  /// overlapping `partials`, a non-finite message, or a stage-2 worker when nothing is coded.
  void encode(Index worker, const Eigen::Ref<const matrix<Scalar>>& partials, Eigen::Ref<vector<Scalar>> out) const {
    if (!is_finished(check_worker(worker, "encode"))) return encode_stage_two(worker, partials, out);
    if (partials.cols() != m_partitions)
      throw invalid_input(
          "encode: partials have " + std::to_string(partials.cols()) + " columns, K = " + std::to_string(m_partitions), worker);
    const auto block = partitions_of(worker);
    encode_block(worker, partials.middleCols(block.empty() ? 0 : block.front(), static_cast<Index>(block.size())), out, "encode");
  }
  /// Same from only the partitions the worker holds: `held` is d × load(worker), columns in the
  /// order of partitions_of(worker).
  void encode_held(Index worker, const Eigen::Ref<const matrix<Scalar>>& held, Eigen::Ref<vector<Scalar>> out) const {
    if (!is_finished(check_worker(worker, "encode_held"))) return encode_stage_two_held(worker, held, out);
    if (held.cols() != load(worker))
      throw invalid_input("encode_held: worker " + std::to_string(worker) + " holds " + std::to_string(load(worker)) +
                              " partitions, got " + std::to_string(held.cols()) + " columns",
                          worker);
    encode_block(worker, held, out, "encode_held");
  }

  /// True when the responders in `p` (over the M workers) let the master decode Σ_k g_k: every
  /// finished worker with a non-empty block is in `p` (no one else holds those partitions) and
  /// the stage-2 workers in `p` satisfy the stage-2 code. Solves and caches the stage-2 plan.
  bool decodable(const pattern& p) const noexcept {
    try {
      return plan(p) != nullptr;
    } catch (...) {
      return false;
    }
  }

  /// The epoch's decoding plan for responders `p`: coefficient C_m (T3) on each finished worker,
  /// the stage-2 plan's a_j on each stage-2 worker (that solve is cached per pattern in code();
  /// this O(M) wrapper is assembled per call). Its amplification is Σ_j |a_j|·‖b_j‖₁ / K over the
  /// rows b_j of the epoch's messages (the linear-code figure, decoding_solver.hpp): the stage-1
  /// blocks count with their sizes, the stage-2 part with R·(its plan's amplification), so it is
  /// ≤ the stage-2 plan's and the stage-2 code's acceptance bounds it. Throws invalid_input when p
  /// is over another node count or, with nothing coded, names a stage-2 worker; not_decodable
  /// when a finished worker's result is missing or the stage-2 workers in p do not suffice.
  std::shared_ptr<const plan_type> plan(const pattern& p) const {
    if (p.nodes() != m_workers)
      throw invalid_input("pattern over " + std::to_string(p.nodes()) + " nodes, the epoch has M = " + std::to_string(m_workers) +
                          " workers");
    const std::size_t needed = m_finished.size() + static_cast<std::size_t>(responders_needed());
    for (Index m : m_finished) {
      const auto& block = m_holdings[static_cast<std::size_t>(m)];
      if (!block.empty() && !p.contains(m))
        throw not_decodable("stage-1 result of finished worker " + std::to_string(m) +
                                " is missing: no other worker holds its partitions " + std::to_string(block.front()) + ".." +
                                std::to_string(block.back()) + " (finished: " + detail::ids_to_string(m_finished) + ")",
                            static_cast<std::size_t>(p.count()), needed);
    }
    vector<double> coefficients = vector<double>::Zero(m_workers);
    double weighted_rows = 0, products = static_cast<double>(p.count());  // Σ|a_j|‖b_j‖₁; C of decoding_plan
    for (std::size_t j = 0; j < m_finished.size(); ++j) {
      const Index m = m_finished[j];
      if (!p.contains(m)) continue;
      const double c = m_stage_one_coefficients[static_cast<Index>(j)];
      coefficients[m] = c;
      weighted_rows += std::abs(c) * static_cast<double>(m_holdings[static_cast<std::size_t>(m)].size());
      products += std::abs(c) * static_cast<double>(m_holdings[static_cast<std::size_t>(m)].size());
    }
    pattern local(m_code ? m_code->nodes() : 0);
    for (std::size_t j = 0; j < m_stage_two.size(); ++j)
      if (p.contains(m_stage_two[j])) {
        if (!m_code)
          throw invalid_input(
              "stage 2 is not coded (K_c = K), yet worker " + std::to_string(m_stage_two[j]) + " sent a stage-2 result",
              m_stage_two[j]);
        local.insert(static_cast<Index>(j));
      }
    double residual = m_stage_one_residual;
    if (m_code) {
      std::shared_ptr<const decoding_plan<Scalar>> inner;
      try {
        inner = m_code->plan(local);
      } catch (const not_decodable& e) {
        throw not_decodable("stage 2 (M - M_c = " + std::to_string(m_stage_two.size()) +
                                " workers, s = " + std::to_string(m_tolerance) + "): " + detail::untagged(e),
                            static_cast<std::size_t>(p.count()), needed);
      }
      const auto& B = m_code->encoding_matrix();
      for (std::size_t j = 0; j < m_stage_two.size(); ++j) {
        const double a = inner->coefficient(static_cast<Index>(j));
        if (a == 0) continue;
        coefficients[m_stage_two[j]] = a;
        products += std::abs(a) * static_cast<double>(B.outerIndexPtr()[j + 1] - B.outerIndexPtr()[j]);
      }
      weighted_rows += inner->amplification() * static_cast<double>(remaining());
      residual = std::max(residual, inner->residual());
    }
    const double amplification = std::max(1.0, weighted_rows / static_cast<double>(m_partitions));
    return std::make_shared<const plan_type>(p, std::move(coefficients), residual, amplification, products, max_relative_error());
  }

  /// The master's Σ_k g_k from the messages of workers `ids` (messages d × |ids|, column j from
  /// worker ids[j], any order): the finished stage-1 workers' stage-1 messages and any decodable
  /// subset of the stage-2 workers' stage-2 messages (encode() gives each). Returns the workers
  /// used (ascending), the plan's amplification and 4ε·amplification (≤ max_relative_error()).
  /// The pass reads every message once into a scratch d-vector (one allocation) that is copied to
  /// `out` only when it succeeded, so every refusal leaves `out` untouched and `out` may alias a
  /// message. Throws invalid_input (ids, shapes, a NaN/Inf message naming the worker, a sum that
  /// overflows or underflows — decoding_plan.hpp) or not_decodable (a finished worker missing, too
  /// few stage-2 results; with the counts).
  decode_report decode(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                       Eigen::Ref<vector<Scalar>> out) const {
    const auto solved = checked_plan(ids, messages);
    if (out.size() != messages.rows())
      throw invalid_input("decode: output has length " + std::to_string(out.size()) + ", messages have length " +
                          std::to_string(messages.rows()));
    vector<Scalar> sum(messages.rows());
    solved->apply(ids, messages, sum);
    out = sum;
    return report(ids, *solved);
  }
  vector<Scalar> decode(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages) const {
    const auto solved = checked_plan(ids, messages);  // refusals before anything of d elements is allocated
    vector<Scalar> out(messages.rows());
    solved->apply(ids, messages, out);
    return out;
  }

  /// The accepted relative decode error: that of the stage-2 code (decode_options::
  /// max_relative_error or its default, 1e-9 double / 1e-4 float).
  double max_relative_error() const noexcept {
    if (m_decode_options.max_relative_error > 0) return m_decode_options.max_relative_error;
    return sizeof(Scalar) >= sizeof(double) ? 1e-9 : 1e-4;
  }
  /// 4·ε_Scalar·amplification, the linear codes' estimate (linear_code::estimated_error).
  static double estimated_error(double amplification) noexcept { return linear_code<Scalar>::estimated_error(amplification); }

  // --- the two message sets apart ---------------------------------------------------------
  /// True when the stage-2 workers `responders` (global ids) suffice, the finished workers'
  /// stage-1 results being at hand; true for an uncoded stage 2. decodable(pattern) is the same
  /// question over all M workers.
  bool decodable(std::span<const Index> responders) const noexcept {
    if (!m_code) return true;
    try {
      return m_code->decodable(local_pattern(responders));
    } catch (...) {
      return false;
    }
  }

  /// decode() with the two message sets apart: `stage_one_ids` must be exactly the finished
  /// workers (any order) with their stage-1 messages (d × M_c), `stage_two_ids` stage-2 workers
  /// (any order, any decodable subset; empty when not coded) with their stage-2 messages. Checks
  /// each id's role, copies both sets into one d × f matrix (an allocation the one-set decode
  /// avoids) and decodes it. Same report and errors; `out` untouched on every refusal.
  decode_report decode(std::span<const Index> stage_one_ids, const Eigen::Ref<const matrix<Scalar>>& stage_one_messages,
                       std::span<const Index> stage_two_ids, const Eigen::Ref<const matrix<Scalar>>& stage_two_messages,
                       Eigen::Ref<vector<Scalar>> out) const {
    const Index d = out.size();
    if (static_cast<Index>(stage_one_ids.size()) != stage_one_messages.cols() ||
        static_cast<Index>(stage_two_ids.size()) != stage_two_messages.cols())
      throw invalid_input("decode: " + std::to_string(stage_one_ids.size()) + " + " + std::to_string(stage_two_ids.size()) +
                          " ids for " + std::to_string(stage_one_messages.cols()) + " + " +
                          std::to_string(stage_two_messages.cols()) + " messages");
    if ((stage_one_messages.cols() > 0 && stage_one_messages.rows() != d) ||
        (stage_two_messages.cols() > 0 && stage_two_messages.rows() != d))
      throw invalid_input("decode: output has length " + std::to_string(d) + ", messages have length " +
                          std::to_string(stage_one_messages.cols() > 0 ? stage_one_messages.rows() : stage_two_messages.rows()));
    const pattern given = pattern::from_ids(m_workers, stage_one_ids);
    for (Index m : m_finished)
      if (!given.contains(m))
        throw invalid_input("decode: stage-1 result of finished worker " + std::to_string(m) +
                                " is missing (finished: " + detail::ids_to_string(m_finished) + ")",
                            m);
    for (Index m : stage_one_ids)
      if (!is_finished(m))
        throw invalid_input(
            "decode: worker " + std::to_string(m) +
                " sent a stage-1 result but did not finish stage 1 (finished: " + detail::ids_to_string(m_finished) + ")",
            m);
    if (!m_code && !stage_two_ids.empty())
      throw invalid_input("decode: stage 2 is not coded (K_c = K), yet " + std::to_string(stage_two_ids.size()) +
                          " stage-2 results were passed");
    for (Index m : stage_two_ids) stage_two_node(m, "decode");
    const Index n1 = stage_one_messages.cols(), n2 = stage_two_messages.cols();
    std::vector<Index> ids(stage_one_ids.begin(), stage_one_ids.end());
    ids.insert(ids.end(), stage_two_ids.begin(), stage_two_ids.end());
    matrix<Scalar> messages(d, n1 + n2);
    if (n1 > 0) messages.leftCols(n1) = stage_one_messages;
    if (n2 > 0) messages.rightCols(n2) = stage_two_messages;
    return decode(ids, messages, out);
  }

 private:
  Index check_worker(Index worker, const char* where) const {
    if (worker < 0 || worker >= m_workers)
      throw invalid_input(
          std::string(where) + ": worker id " + std::to_string(worker) + " is outside [0, M = " + std::to_string(m_workers) + ")",
          worker);
    return worker;
  }
  bool is_finished(Index worker) const noexcept { return std::binary_search(m_finished.begin(), m_finished.end(), worker); }
  void fill_holdings(const two_stage_code<Scalar>& stage_one) {
    m_holdings.assign(static_cast<std::size_t>(m_workers), {});
    for (Index m : m_finished)
      for (Index k = stage_one.stage_one_first(m); k < stage_one.stage_one_first(m) + stage_one.stage_one_load(m); ++k)
        m_holdings[static_cast<std::size_t>(m)].push_back(k);
    for (Index m : m_stage_two) m_holdings[static_cast<std::size_t>(m)] = stage_two_partitions(m);
  }
  void encode_block(Index worker, const Eigen::Ref<const matrix<Scalar>>& block, Eigen::Ref<vector<Scalar>> out,
                    const char* where) const {
    if (out.size() != block.rows())
      throw invalid_input(std::string(where) + ": output has length " + std::to_string(out.size()) +
                              ", gradients have d = " + std::to_string(block.rows()),
                          worker);
    if (detail::overlaps(out.data(), out.size(), block.data(), detail::memory_extent<Scalar>(block)))
      throw invalid_input(std::string(where) + ": the output overlaps the partial gradients", worker);
    if (block.cols() == 0)
      out.setZero();
    else
      out = block.rowwise().sum();
    if (!out.allFinite())
      throw invalid_input(
          std::string(where) + ": worker " + std::to_string(worker) + "'s message is not finite (NaN/Inf in its block)", worker);
  }
  std::shared_ptr<const plan_type> checked_plan(std::span<const Index> ids,
                                                const Eigen::Ref<const matrix<Scalar>>& messages) const {
    if (static_cast<Index>(ids.size()) != messages.cols())
      throw invalid_input("decode: " + std::to_string(ids.size()) + " worker ids for " + std::to_string(messages.cols()) +
                          " messages");
    return plan(pattern::from_ids(m_workers, ids));
  }
  decode_report report(std::span<const Index> ids, const plan_type& solved) const {
    return {.used = detail::sorted_ids(ids),
            .corrupted = {},
            .amplification = solved.amplification(),
            .estimated_error = estimated_error(solved.amplification()),
            .exact = true};
  }
  Index stage_two_node(Index worker, const char* where) const {
    if (!m_code)
      throw invalid_input(std::string(where) + ": stage 2 is not coded (the finished stage-1 workers covered all K partitions)",
                          worker);
    const Index j = stage_two_index(worker);
    if (j < 0)
      throw invalid_input(std::string(where) + ": worker " + std::to_string(worker) +
                              " is not a stage-2 worker (stage 2: " + detail::ids_to_string(m_stage_two) + ")",
                          worker);
    return j;
  }
  pattern local_pattern(std::span<const Index> responders) const {
    pattern p(m_code->nodes());
    for (Index m : responders) {
      const Index j = stage_two_node(m, "decodable");
      if (p.contains(j)) throw invalid_input("worker " + std::to_string(m) + " appears twice among the responders", m);
      p.insert(j);
    }
    return p;
  }

  Index m_workers, m_partitions, m_tolerance;
  decode_options m_decode_options;
  std::vector<Index> m_finished, m_covered, m_global_partition, m_stage_two, m_local;
  std::vector<std::vector<Index>> m_holdings;  // per worker: partitions of the message it sends this epoch (global, ascending)
  vector<double> m_stage_one_coefficients;
  double m_stage_one_residual = 0;
  std::vector<Index> m_fresh_loads;
  std::optional<heterogeneous_code<Scalar>> m_code;
};

}  // namespace gradcode
