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
// Numerically safe region: that of null_space.hpp (stage-2 node count ≤ 100, s ≤ 6; measured in
// tests/dynamic/two_stage_test.cpp); outside it the stage-2 decoder reports not_decodable.
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
};

/// How the stage-2 code is built and decoded; all defaulted.
struct two_stage_options {
  std::uint64_t seed = 1;  ///< seed of the null-space construction of B2
  decode_options decode;   ///< residual / amplification acceptance of the stage-2 decode
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
        m_options(options) {
    const Index M = workers();
    if (M < 1) throw invalid_parameters("two-stage code: no workers (throughputs is empty)");
    if (M > limits::max_nodes)
      throw invalid_parameters("two-stage code: M = " + std::to_string(M) + " workers exceeds limits::max_nodes = " +
                               std::to_string(limits::max_nodes));
    if (m_partitions < 1) throw invalid_parameters("two-stage code: K = " + std::to_string(m_partitions) + "; need K >= 1");
    if (m_partitions > limits::max_partitions)  // checked before the per-partition owner table is allocated
      throw invalid_parameters("two-stage code: K = " + std::to_string(m_partitions) + " exceeds limits::max_partitions = " +
                               std::to_string(limits::max_partitions));
    for (std::size_t m = 0; m < m_throughputs.size(); ++m)
      if (!(m_throughputs[m] > 0) || !std::isfinite(m_throughputs[m]))
        throw invalid_parameters("two-stage code: worker " + std::to_string(m) + " has throughput W = " +
                                 detail::format_g(m_throughputs[m]) + "; throughputs must be positive and finite");
    if (m_stage_one.empty())
      throw invalid_parameters("two-stage code: no stage-1 workers; need 1 <= M1 <= M = " + std::to_string(M));
    std::sort(m_stage_one.begin(), m_stage_one.end());
    for (std::size_t j = 0; j < m_stage_one.size(); ++j) {
      if (m_stage_one[j] < 0 || m_stage_one[j] >= M)
        throw invalid_parameters("two-stage code: stage-1 worker " + std::to_string(m_stage_one[j]) + " is outside [0, M = " +
                                 std::to_string(M) + ")");
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
      throw invalid_input("encode_stage_one: partials have " + std::to_string(partials.cols()) + " columns, K = " +
                              std::to_string(m_partitions),
                          worker);
    if (out.size() != partials.rows())
      throw invalid_input("encode_stage_one: output has length " + std::to_string(out.size()) + ", gradients have d = " +
                              std::to_string(partials.rows()),
                          worker);
    // An out inside partials would be read after it is (partly) written: a wrong message.
    if (detail::overlaps(out.data(), out.size(), partials.data(), detail::memory_extent(partials)))
      throw invalid_input("encode_stage_one: the output overlaps the partial gradients", worker);
    const auto m = static_cast<std::size_t>(worker);
    out = partials.middleCols(m_block_begin[m], m_block_end[m] - m_block_begin[m]).rowwise().sum();
    if (!out.allFinite())
      throw invalid_input("encode_stage_one: worker " + std::to_string(worker) + "'s message is not finite (NaN/Inf in its block)",
                          worker);
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
      throw invalid_input("worker id " + std::to_string(worker) + " is outside [0, M = " + std::to_string(workers()) + ")", worker);
    return worker;
  }

  std::vector<double> m_throughputs;
  Index m_partitions;
  std::vector<Index> m_stage_one;
  two_stage_options m_options;
  std::vector<Index> m_block_begin, m_block_end;  // per worker (empty block for non-stage-1)
  std::vector<Index> m_owner;                     // per partition
};

/// Stage 2 of an epoch and the master's decode: built by two_stage_code::stage_two. Immutable;
/// decoding plans are cached per pattern (safe for concurrent const use).
template <class Scalar>
class stage_two_code {
 public:
  stage_two_code(const two_stage_code<Scalar>& stage_one, std::span<const Index> finished, Index straggler_tolerance)
      : m_workers(stage_one.workers()), m_partitions(stage_one.partitions()), m_tolerance(straggler_tolerance) {
    const Index M = m_workers, K = m_partitions;
    if (straggler_tolerance < 0)
      throw invalid_parameters("two-stage code: straggler tolerance s = " + std::to_string(straggler_tolerance) + " is negative");
    pattern done(M);
    for (Index m : finished) {
      if (m < 0 || m >= M)
        throw invalid_input("stage_two: finished worker " + std::to_string(m) + " is outside [0, M = " + std::to_string(M) + ")", m);
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
    for (std::size_t j = 0; j < m_stage_two.size(); ++j) m_local[static_cast<std::size_t>(m_stage_two[j])] = static_cast<Index>(j);

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
      }
    }

    const Index R = remaining();
    if (R == 0) return;  // K_c = K: no coding (§4.2)
    const Index fresh_count = static_cast<Index>(fresh.size());
    if (straggler_tolerance > fresh_count)
      throw invalid_parameters("two-stage code: stage 2 cannot tolerate s = " + std::to_string(straggler_tolerance) +
                               " stragglers: each of the K - K_c = " + std::to_string(R) + " remaining partitions needs s = " +
                               std::to_string(straggler_tolerance) + " further copies on distinct new workers, and only M - M1 = " +
                               std::to_string(fresh_count) + " workers were held back (s <= " + std::to_string(fresh_count) +
                               " would fit)");
    std::vector<std::vector<Index>> holdings(m_stage_two.size());
    for (Index j = 0; j < unfinished; ++j) {  // unfinished stage-1 workers keep their blocks
      const Index m = m_stage_two[static_cast<std::size_t>(j)];
      for (Index k = stage_one.stage_one_first(m); k < stage_one.stage_one_first(m) + stage_one.stage_one_load(m); ++k)
        holdings[static_cast<std::size_t>(j)].push_back(local_partition[static_cast<std::size_t>(k)]);
    }
    // The stage-2 support holds R(s + 1) partition copies (eq. (17)); bound it before building.
    if (straggler_tolerance + 1 > limits::max_support_entries / R)
      throw invalid_parameters("two-stage code: stage 2 would place (K - K_c)(s + 1) = " + std::to_string(R) + "·" +
                               std::to_string(straggler_tolerance + 1) + " partition copies, more than limits::max_support_entries = " +
                               std::to_string(limits::max_support_entries) + " (s <= " +
                               std::to_string(limits::max_support_entries / R - 1) + " would fit)");
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
    m_code.emplace(assignment(R, std::move(holdings)), straggler_tolerance, stage_one.options().seed, stage_one.options().decode);
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
      throw invalid_input("encode_stage_two: partials have " + std::to_string(partials.cols()) + " columns, K = " +
                              std::to_string(m_partitions),
                          worker);
    if (out.size() != partials.rows())
      throw invalid_input("encode_stage_two: output has length " + std::to_string(out.size()) + ", gradients have d = " +
                              std::to_string(partials.rows()),
                          worker);
    if (detail::overlaps(out.data(), out.size(), partials.data(), detail::memory_extent(partials)))
      throw invalid_input("encode_stage_two: the output overlaps the partial gradients", worker);
    out.setZero();
    for (typename sparse_matrix<double>::InnerIterator it(m_code->encoding_matrix(), j); it; ++it)
      out += static_cast<Scalar>(it.value()) * partials.col(m_global_partition[static_cast<std::size_t>(it.col())]);
    if (!out.allFinite())
      throw invalid_input("encode_stage_two: worker " + std::to_string(worker) + "'s message is not finite (NaN/Inf in a partition it holds)",
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

  /// True when the stage-2 workers `responders` (global ids) suffice; true for an uncoded stage 2.
  bool decodable(std::span<const Index> responders) const noexcept {
    if (!m_code) return true;
    try {
      return m_code->decodable(local_pattern(responders));
    } catch (...) {
      return false;
    }
  }

  /// The master's Σ_k g_k: `stage_one_ids` must be exactly the finished workers (any order) with
  /// their stage-1 messages (d × M_c); `stage_two_ids` are stage-2 workers (any order, any
  /// decodable subset; empty when not coded) with their stage-2 messages. Ids, shapes and
  /// decodability are checked before `out` is written; one streaming pass then reads every
  /// message once. Throws invalid_input (ids, shapes, `out` overlapping a message; a NaN/Inf message
  /// naming the worker, `out` then unspecified) or not_decodable (too few stage-2 results, with the
  /// counts).
  void decode(std::span<const Index> stage_one_ids, const Eigen::Ref<const matrix<Scalar>>& stage_one_messages,
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
    // The streaming pass writes out while it reads every message: out may not share their memory.
    if (detail::overlaps(out.data(), d, stage_one_messages.data(), detail::memory_extent(stage_one_messages)) ||
        detail::overlaps(out.data(), d, stage_two_messages.data(), detail::memory_extent(stage_two_messages)))
      throw invalid_input("decode: the output overlaps the messages");
    // Stage 1: exactly the finished workers, each once.
    const pattern given = pattern::from_ids(m_workers, stage_one_ids);
    for (Index m : m_finished)
      if (!given.contains(m))
        throw invalid_input("decode: stage-1 result of finished worker " + std::to_string(m) + " is missing (finished: " +
                                detail::ids_to_string(m_finished) + ")",
                            m);
    std::vector<Index> position(stage_one_ids.size());
    for (std::size_t j = 0; j < stage_one_ids.size(); ++j) {
      const auto it = std::lower_bound(m_finished.begin(), m_finished.end(), stage_one_ids[j]);
      if (it == m_finished.end() || *it != stage_one_ids[j])
        throw invalid_input("decode: worker " + std::to_string(stage_one_ids[j]) +
                                " sent a stage-1 result but did not finish stage 1 (finished: " + detail::ids_to_string(m_finished) + ")",
                            stage_one_ids[j]);
      position[j] = it - m_finished.begin();
    }
    // Stage 2.
    std::vector<Index> local;
    std::shared_ptr<const decoding_plan<Scalar>> plan;
    if (!m_code) {
      if (!stage_two_ids.empty())
        throw invalid_input("decode: stage 2 is not coded (K_c = K), yet " + std::to_string(stage_two_ids.size()) +
                            " stage-2 results were passed");
    } else {
      local.reserve(stage_two_ids.size());
      for (Index m : stage_two_ids) local.push_back(stage_two_node(m, "decode"));
      try {
        plan = m_code->plan(pattern::from_ids(m_code->nodes(), local));
      } catch (const not_decodable& e) {
        throw not_decodable("stage 2 (M - M_c = " + std::to_string(m_stage_two.size()) + " workers, s = " +
                                std::to_string(m_tolerance) + "): " + detail::untagged(e),
                            e.received(), e.needed());
      }
    }
    // One streaming pass over all messages: out = Σ_j a_j·(stage-2 message j) + Σ_m C_m·(stage-1 message m).
    const Index n2 = static_cast<Index>(stage_two_ids.size()), n1 = static_cast<Index>(stage_one_ids.size());
    std::vector<Scalar> weight(static_cast<std::size_t>(n2 + n1));
    for (Index j = 0; j < n2; ++j) weight[static_cast<std::size_t>(j)] = static_cast<Scalar>(plan->coefficient(local[static_cast<std::size_t>(j)]));
    for (Index j = 0; j < n1; ++j)
      weight[static_cast<std::size_t>(n2 + j)] = static_cast<Scalar>(m_stage_one_coefficients[position[static_cast<std::size_t>(j)]]);
    const Scalar* two_base = stage_two_messages.data();
    const Scalar* one_base = stage_one_messages.data();
    const Index two_stride = stage_two_messages.outerStride(), one_stride = stage_one_messages.outerStride();
    const Index bad = detail::weighted_sum<Scalar>(
        n2 + n1, d, [&](Index j) { return weight[static_cast<std::size_t>(j)]; },
        [&](Index j) { return j < n2 ? two_base + j * two_stride : one_base + (j - n2) * one_stride; }, out.data());
    if (bad >= 0) {
      // Name the worker whose message is not finite (out is then unspecified).
      const Index b = bad * detail::weighted_sum_block, len = std::min(detail::weighted_sum_block, d - b);
      for (Index j = 0; j < n1; ++j)
        if (!stage_one_messages.col(j).segment(b, len).allFinite())
          throw invalid_input("decode: stage-1 message of worker " + std::to_string(stage_one_ids[static_cast<std::size_t>(j)]) +
                                  " is not finite near element " + std::to_string(b),
                              stage_one_ids[static_cast<std::size_t>(j)]);
      for (Index j = 0; j < n2; ++j)
        if (!stage_two_messages.col(j).segment(b, len).allFinite())
          throw invalid_input("decode: stage-2 message of worker " + std::to_string(stage_two_ids[static_cast<std::size_t>(j)]) +
                                  " is not finite near element " + std::to_string(b),
                              stage_two_ids[static_cast<std::size_t>(j)]);
      throw invalid_input("decode: the decoded sum overflows near element " + std::to_string(b) + " (messages are finite)");
    }
  }
  vector<Scalar> decode(std::span<const Index> stage_one_ids, const Eigen::Ref<const matrix<Scalar>>& stage_one_messages,
                        std::span<const Index> stage_two_ids, const Eigen::Ref<const matrix<Scalar>>& stage_two_messages) const {
    vector<Scalar> out(stage_one_messages.cols() > 0 ? stage_one_messages.rows() : stage_two_messages.rows());
    decode(stage_one_ids, stage_one_messages, stage_two_ids, stage_two_messages, out);
    return out;
  }

 private:
  Index stage_two_node(Index worker, const char* where) const {
    if (!m_code)
      throw invalid_input(std::string(where) + ": stage 2 is not coded (the finished stage-1 workers covered all K partitions)",
                          worker);
    const Index j = stage_two_index(worker);
    if (j < 0)
      throw invalid_input(std::string(where) + ": worker " + std::to_string(worker) + " is not a stage-2 worker (stage 2: " +
                              detail::ids_to_string(m_stage_two) + ")",
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
  std::vector<Index> m_finished, m_covered, m_global_partition, m_stage_two, m_local;
  vector<double> m_stage_one_coefficients;
  std::vector<Index> m_fresh_loads;
  std::optional<heterogeneous_code<Scalar>> m_code;
};

}  // namespace gradcode
