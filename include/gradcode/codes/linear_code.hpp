// SPDX-License-Identifier: MIT
// A linear gradient code given by its encoding matrix B (n × K, row i = what node i sends):
// encode g ↦ Σ_k B_ik g_k, and decode from any responder set F with 1 ∈ rowspan(B_F)
// (Tandon et al. 2017 §II; tang2024 Condition 1). Every single-layer code in codes/ is one.
#pragma once

#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/assignment.hpp"
#include "gradcode/core/codec.hpp"
#include "gradcode/core/decoding_plan.hpp"
#include "gradcode/core/decoding_solver.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/pattern.hpp"
#include "gradcode/core/span_verifier.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/detail/plan_cache.hpp"
#include "gradcode/detail/weighted_sum.hpp"

namespace gradcode {

/// How decoding is run; all defaulted. Checked by every code's constructor (invalid_parameters
/// naming the field).
struct decode_options {
  /// A plan is accepted when ‖B_Fᵀa − 1‖_∞ ≤ this (solve in double). Finite, in [0, 1): at 1 the
  /// coefficients a = 0 would "decode" any pattern, even no responder at all.
  double residual_tolerance = 1e-9;
  /// ... and when the decode's conservative error estimate 4·ε_Scalar·amplification (see
  /// decoding_solution) is ≤ this; a pattern whose coefficients would amplify the messages'
  /// rounding past it is reported as not decodable rather than decoded into noise. Also bounds
  /// the underflow term of decoding_plan::apply (sums too small for the scalar are refused).
  /// ≤ 0 selects the default: 1e-9 for double, 1e-4 for float (DESIGN.md accuracy targets);
  /// otherwise below 1 (a relative error of 1 is no correct digit). NaN is rejected.
  double max_relative_error = 0;
  /// Decoding plans kept (LRU) per code; 0 disables caching.
  std::size_t plan_cache_size = 4096;
};

namespace detail {
/// Throws invalid_parameters naming the field of `o` that is NaN or out of range (decode_options).
inline void check_decode_options(const decode_options& o) {
  if (!(o.residual_tolerance >= 0 && o.residual_tolerance < 1))
    throw invalid_parameters("decode_options.residual_tolerance = " + format_g(o.residual_tolerance) +
                             " must be finite and in [0, 1) (default 1e-9)");
  if (std::isnan(o.max_relative_error) || o.max_relative_error >= 1)
    throw invalid_parameters("decode_options.max_relative_error = " + format_g(o.max_relative_error) +
                             " must be below 1 (<= 0 selects the default: 1e-9 for double, 1e-4 for float)");
}

/// Throws invalid_parameters unless n ≤ limits::max_nodes, K ≤ limits::max_partitions and n × K ≤
/// limits::max_dense_entries (a dense decoding solve works on f × K doubles, f ≤ n). Codes whose
/// decodes may need that dense solve call it before they build anything (HGC, fractional
/// repetition); sparse codes call check_sparse_code_size and let linear_code check the band.
inline void check_code_size(const std::string& code, Index n, Index K) {
  if (n > limits::max_nodes)
    throw invalid_parameters(code + ": n = " + std::to_string(n) +
                             " nodes exceeds limits::max_nodes = " + std::to_string(limits::max_nodes));
  if (K > limits::max_partitions)
    throw invalid_parameters(code + ": K = " + std::to_string(K) +
                             " partitions exceeds limits::max_partitions = " + std::to_string(limits::max_partitions));
  if (n >= 1 && K >= 1 && bounded_product(n, K, limits::max_dense_entries) < 0)
    throw invalid_parameters(code + ": n × K = " + std::to_string(n) + " × " + std::to_string(K) +
                             " exceeds limits::max_dense_entries = " + std::to_string(limits::max_dense_entries) +
                             " (decoding solves are dense f × K)");
}

/// The part of check_code_size that does not assume dense solves: n ≤ limits::max_nodes and K ≤
/// limits::max_partitions. For codes built on a sparse support (heterogeneous, cyclic repetition),
/// whose n × K may exceed limits::max_dense_entries when B is banded (linear_code checks that).
inline void check_sparse_code_size(const std::string& code, Index n, Index K) {
  if (n > limits::max_nodes)
    throw invalid_parameters(code + ": n = " + std::to_string(n) +
                             " nodes exceeds limits::max_nodes = " + std::to_string(limits::max_nodes));
  if (K > limits::max_partitions)
    throw invalid_parameters(code + ": K = " + std::to_string(K) +
                             " partitions exceeds limits::max_partitions = " + std::to_string(limits::max_partitions));
}

/// Throws invalid_parameters when n × K > limits::max_dense_entries and B (n × K) has no band
/// that the sparse decoding solve could work in within the same limit: the doubles of its band
/// solve (detail::band_solve_entries over Bᵀ in Cuthill–McKee order; a pattern's B_F has about
/// the same band) must be ≤ limits::max_dense_entries. O(nnz(B)·max holders).
inline void check_solve_size(const std::string& code, const sparse_matrix<double>& B) {
  const Index n = B.rows(), K = B.cols();
  if (bounded_product(n, K, limits::max_dense_entries) >= 0) return;
  const auto why = [&](const std::string& detail) {
    return code + ": n × K = " + std::to_string(n) + " × " + std::to_string(K) +
           " exceeds limits::max_dense_entries = " + std::to_string(limits::max_dense_entries) + " (dense f × K solves) and " +
           detail;
  };
  constexpr Index int_max = std::numeric_limits<int>::max();
  if (n > int_max || K > int_max || B.nonZeros() > int_max)
    throw invalid_parameters(why("B is past the int indices of the sparse solve"));
  sparse_qr_matrix bt = B.transpose();
  bt.prune([](Index, Index, double v) { return v != 0; });
  bt.makeCompressed();
  const auto sys = banded_form(bt);
  const Index entries = band_solve_entries(sys.A.rows(), sys.A.cols(), sys.band);
  if (2 * sys.band >= sys.A.rows() || entries > limits::max_dense_entries)
    throw invalid_parameters(why("B has no band for the sparse solve: band " + std::to_string(sys.band) +
                                 " after Cuthill–McKee reordering, " + std::to_string(entries) +
                                 " doubles of band solve; a support with each partition on nearby nodes (cyclic "
                                 "consecutive placement) fits"));
}

/// f × K above which a plan's decoding solve runs on the sparse B_F
/// (solve_decoding_coefficients_sparse) instead of a dense copy. The sparse solve is faster from
/// n ≈ 100 on (heterogeneous code, s = 1–2: 0.3 ms vs 9 ms at 300, ~1 ms vs 390 ms at 1000, a few ms
/// vs 15–20 s at 3000), but it rounds differently (coefficients agree to ~1e-10 relative,
/// tests/core/sparse_decoding_solver_test.cpp); below 2^16 entries (n ≈ 256) the dense path stays,
/// so small codes decode bit for bit as before and the dense solve there costs at most a few ms.
/// Above it, up to dense_recheck_entries, a sparse solution that fails the plan checks is re-solved
/// densely (linear_code::solve), so refusals there stay the dense path's.
inline constexpr Index sparse_solve_entries = Index{1} << 16;

/// f × K up to which linear_code re-solves a sparse refusal densely (n ≈ 1000: ≤ 0.5 s). Beyond,
/// the sparse verdict is final: a dense COD costs 15–20 s at n = 3000 and minutes at 8192, so a
/// refusal (an honest one, e.g. cyclic repetition in float at s = 2 with adjacent stragglers, whose
/// minimum-norm amplification is ≈ 0.4·n) would otherwise cost that on every cold plan; and the
/// sparse solve reaches the dense verdict on all sampled patterns of the codes at s ≤ 2 and on 99
/// of 100 at cyclic repetition n = 200, s = 20 (tests/core/sparse_decoding_solver_test.cpp).
inline constexpr Index dense_recheck_entries = Index{1} << 20;

/// Throws invalid_parameters unless copies ≤ limits::max_support_entries, where copies = a·b
/// (e.g. K·(s+1)) must not overflow on the way.
inline void check_support_size(const std::string& code, Index a, Index b, const std::string& what) {
  if (bounded_product(a, b, limits::max_support_entries) < 0)
    throw invalid_parameters(
        code + ": " + what + " = " + std::to_string(a) + " · " + std::to_string(b) +
        " partition copies exceeds limits::max_support_entries = " + std::to_string(limits::max_support_entries));
}
}  // namespace detail

/// What defines a linear code: who holds what, the encoding matrix on that support, and the
/// number of stragglers s it is built to tolerate.
struct code_definition {
  assignment support;              ///< node → partitions; B_ik ≠ 0 only where node i holds k
  sparse_matrix<double> encoding;  ///< B, n × K
  Index tolerance = 0;             ///< s: any n − s responders must decode
};

template <class Scalar>
class linear_code {
 public:
  using scalar_type = Scalar;
  using plan_type = decoding_plan<Scalar>;

  /// Throws invalid_parameters when B's shape or support disagrees with `support`, when some
  /// partition is held by fewer than s + 1 nodes, when `options` has a NaN or out-of-range field,
  /// or when n × K exceeds limits::max_dense_entries and B has no band (detail::check_solve_size:
  /// a banded B, e.g. on a cyclic consecutive support, is solved sparsely at any such size). The
  /// span condition itself is not re-checked here (it costs C(n, s) solves); call verify() for that.
  explicit linear_code(code_definition def, const decode_options& options = {})
      : m_support(std::move(def.support)),
        m_encoding(std::move(def.encoding)),
        m_tolerance(def.tolerance),
        m_options(options),
        m_cache(std::make_unique<detail::plan_cache<plan_type>>(options.plan_cache_size)) {
    detail::check_decode_options(options);
    detail::check_sparse_code_size("linear code", m_support.nodes(), m_support.partitions());
    m_support.require_replication(m_tolerance);
    if (m_encoding.rows() != m_support.nodes() || m_encoding.cols() != m_support.partitions())
      throw invalid_parameters("encoding matrix is " + std::to_string(m_encoding.rows()) + " × " +
                               std::to_string(m_encoding.cols()) +
                               ", the assignment has n = " + std::to_string(m_support.nodes()) +
                               " nodes and K = " + std::to_string(m_support.partitions()) + " partitions");
    m_encoding.makeCompressed();
    m_held_position.resize(static_cast<std::size_t>(m_encoding.nonZeros()));
    for (Index i = 0; i < m_encoding.rows(); ++i) {
      const auto held = m_support.partitions_of(i);
      for (typename sparse_matrix<double>::InnerIterator it(m_encoding, i); it; ++it) {
        if (!std::isfinite(it.value()))
          throw invalid_parameters("encoding matrix entry (" + std::to_string(i) + ", " + std::to_string(it.col()) +
                                   ") is not finite");
        const auto pos = std::lower_bound(held.begin(), held.end(), it.col());
        if (pos == held.end() || *pos != it.col())
          throw invalid_parameters("encoding matrix uses partition " + std::to_string(it.col()) + " at node " +
                                   std::to_string(i) + ", which the assignment does not give that node");
        m_held_position[static_cast<std::size_t>(&it.value() - m_encoding.valuePtr())] = pos - held.begin();
      }
    }
    detail::check_solve_size("linear code", m_encoding);
    m_encoding_cast = m_encoding.template cast<Scalar>();
  }

  linear_code(const linear_code& other)
      : m_support(other.m_support),
        m_encoding(other.m_encoding),
        m_encoding_cast(other.m_encoding_cast),
        m_held_position(other.m_held_position),
        m_tolerance(other.m_tolerance),
        m_options(other.m_options),
        m_cache(std::make_unique<detail::plan_cache<plan_type>>(other.m_options.plan_cache_size)) {}
  linear_code(linear_code&&) noexcept = default;
  linear_code& operator=(linear_code other) noexcept {
    swap(other);
    return *this;
  }
  void swap(linear_code& other) noexcept {
    using std::swap;
    swap(m_support, other.m_support);
    swap(m_encoding, other.m_encoding);
    swap(m_encoding_cast, other.m_encoding_cast);
    swap(m_held_position, other.m_held_position);
    swap(m_tolerance, other.m_tolerance);
    swap(m_options, other.m_options);
    swap(m_cache, other.m_cache);
  }

  /// n, the number of nodes (workers) of the code.
  Index nodes() const noexcept { return m_support.nodes(); }
  /// K, the number of data partitions.
  Index partitions() const noexcept { return m_support.partitions(); }
  /// s, the number of stragglers every pattern of which is tolerated.
  Index tolerance() const noexcept { return m_tolerance; }
  /// n − s: responders that always suffice.
  Index responders_needed() const noexcept { return nodes() - m_tolerance; }
  /// Partitions node i computes on.
  Index load(Index node) const { return m_support.load(check_node(node)); }
  /// The partitions node i holds, ascending (the order encode_held reads them in).
  std::span<const Index> partitions_of(Index node) const { return m_support.partitions_of(check_node(node)); }
  /// Scalars per message for gradients of length d: a linear code sends one d-vector.
  Index message_length(Index d) const noexcept { return d; }
  const assignment& support() const noexcept { return m_support; }
  /// B in double (the matrix the decoding solves use).
  const sparse_matrix<double>& encoding_matrix() const noexcept { return m_encoding; }
  const decode_options& options() const noexcept { return m_options; }

  /// Node i's message Σ_k B_ik g_k from the full d × K matrix of partial gradients (only the
  /// columns node i holds are read). Throws invalid_input on a bad node id or shapes, and on a
  /// non-finite result (naming the node; `out` is then unspecified).
  void encode(Index node, const Eigen::Ref<const matrix<Scalar>>& partials, Eigen::Ref<vector<Scalar>> out) const {
    check_node(node);
    if (partials.cols() != partitions())
      throw invalid_input("encode: partials have " + std::to_string(partials.cols()) +
                              " columns, the code has K = " + std::to_string(partitions()) + " partitions",
                          node);
    encode_columns(node, partials, out, [&](Index nz) { return m_encoding_cast.innerIndexPtr()[nz]; });
  }

  /// Node i's message from only the partitions it holds: `held` is d × load(i), its columns in the
  /// order of support().partitions_of(i) — what a worker actually has in memory.
  void encode_held(Index node, const Eigen::Ref<const matrix<Scalar>>& held, Eigen::Ref<vector<Scalar>> out) const {
    check_node(node);
    if (held.cols() != load(node))
      throw invalid_input("encode_held: node " + std::to_string(node) + " holds " + std::to_string(load(node)) +
                              " partitions, got " + std::to_string(held.cols()) + " columns",
                          node);
    encode_columns(node, held, out, [&](Index nz) { return m_held_position[static_cast<std::size_t>(nz)]; });
  }

  vector<Scalar> encode(Index node, const Eigen::Ref<const matrix<Scalar>>& partials) const {
    check_node(node);
    if (partials.cols() != partitions())  // before allocating: the shape may be a lie
      throw invalid_input("encode: partials have " + std::to_string(partials.cols()) +
                              " columns, the code has K = " + std::to_string(partitions()) + " partitions",
                          node);
    vector<Scalar> out(partials.rows());
    encode(node, partials, out);
    return out;
  }

  /// True when the responders in `p` suffice (solves and caches the plan if needed).
  bool decodable(const pattern& p) const noexcept {
    try {
      return p.nodes() == nodes() && plan(p) != nullptr;
    } catch (...) {
      return false;
    }
  }

  /// Decoding plan for responders `p`, from the cache or by a fresh solve. Throws invalid_input if
  /// p is over another node count, not_decodable when 1 ∉ rowspan(B_F) within tolerance.
  std::shared_ptr<const plan_type> plan(const pattern& p) const {
    if (p.nodes() != nodes())
      throw invalid_input("pattern over " + std::to_string(p.nodes()) + " nodes, the code has n = " + std::to_string(nodes()));
    if (!m_cache) return solve(p);  // a moved-from code stays usable, uncached
    return m_cache->get_or_make(p, [&] { return solve(p); });
  }

  /// Σ_k g_k from the messages of nodes `ids` (messages d × |ids|, column j from node ids[j], any
  /// order, any subset). Returns the nodes used and the plan's amplification with its error
  /// estimate 4ε·amplification. Throws invalid_input (bad ids/shapes/NaN, `out` overlapping the
  /// messages, a sum that overflows or is too small for Scalar's absolute rounding floor — see
  /// decoding_plan.hpp) or not_decodable.
  decode_report decode(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                       Eigen::Ref<vector<Scalar>> out) const {
    if (static_cast<Index>(ids.size()) != messages.cols())
      throw invalid_input("decode: " + std::to_string(ids.size()) + " node ids for " + std::to_string(messages.cols()) +
                          " messages");
    const auto solved = plan(pattern::from_ids(nodes(), ids));
    solved->apply(ids, messages, out);
    return {.used = detail::sorted_ids(ids),
            .corrupted = {},
            .amplification = solved->amplification(),
            .estimated_error = estimated_error(solved->amplification()),
            .exact = true};
  }

  /// 4·ε_Scalar·amplification: the conservative relative error estimate of a decode whose plan
  /// amplifies rounding by `amplification` (decoding_plan.hpp).
  static double estimated_error(double amplification) noexcept {
    return 4 * static_cast<double>(std::numeric_limits<Scalar>::epsilon()) * amplification;
  }

  vector<Scalar> decode(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages) const {
    if (static_cast<Index>(ids.size()) != messages.cols())
      throw invalid_input("decode: " + std::to_string(ids.size()) + " node ids for " + std::to_string(messages.cols()) +
                          " messages");
    const auto solved = plan(pattern::from_ids(nodes(), ids));  // refusals before out is allocated
    vector<Scalar> out(messages.rows());
    solved->apply(ids, messages, out);
    return out;
  }

  /// Span-condition check of this code over all (or random) sets of n − s responders.
  span_report verify(const span_check_options& options = {}) const {
    span_check_options o = options;
    o.residual_tolerance = m_options.residual_tolerance;
    return verify_span_condition(m_encoding, responders_needed(), o);
  }

  /// The accepted relative decode error (decode_options::max_relative_error or its default).
  double max_relative_error() const noexcept {
    if (m_options.max_relative_error > 0) return m_options.max_relative_error;
    return sizeof(Scalar) >= sizeof(double) ? 1e-9 : 1e-4;
  }
  /// Largest accepted amplification: max_relative_error() / (4·ε_Scalar).
  double max_amplification() const noexcept {
    return max_relative_error() / (4 * static_cast<double>(std::numeric_limits<Scalar>::epsilon()));
  }

  /// Number of cached plans (for tests and benchmarks).
  std::size_t cached_plans() const { return m_cache ? m_cache->size() : 0; }

 private:
  Index check_node(Index node) const {
    if (node < 0 || node >= nodes())
      throw invalid_input("node id " + std::to_string(node) + " is outside [0, " + std::to_string(nodes()) + ")", node);
    return node;
  }

  template <class ColumnOf>
  void encode_columns(Index node, const Eigen::Ref<const matrix<Scalar>>& cols, Eigen::Ref<vector<Scalar>> out,
                      ColumnOf&& column_of) const {
    if (out.size() != cols.rows())
      throw invalid_input(
          "encode: output has length " + std::to_string(out.size()) + ", gradients have d = " + std::to_string(cols.rows()),
          node);
    const Index begin = m_encoding_cast.outerIndexPtr()[node];
    const Index count = m_encoding_cast.outerIndexPtr()[node + 1] - begin;
    const Scalar* values = m_encoding_cast.valuePtr() + begin;
    const Scalar* base = cols.data();
    const Index stride = cols.outerStride();
    if (detail::overlaps(out.data(), out.size(), base, cols.cols() > 0 ? (cols.cols() - 1) * stride + cols.rows() : 0))
      throw invalid_input("encode: the output overlaps the partial gradients", node);
    const Index bad = detail::weighted_sum<Scalar>(
        count, cols.rows(), [&](Index j) { return values[j]; }, [&](Index j) { return base + column_of(begin + j) * stride; },
        out.data());
    if (bad >= 0)
      throw invalid_input("encode: node " + std::to_string(node) + "'s message is not finite near element " +
                              std::to_string(bad * detail::weighted_sum_block) + " (NaN/Inf in a partial gradient it holds)",
                          node);
  }

  std::shared_ptr<const plan_type> solve(const pattern& p) const {
    const auto ids = p.ids();
    const auto f = static_cast<Index>(ids.size());
    auto sol = f * partitions() > detail::sparse_solve_entries ? solve_sparse(ids) : solve_dense(ids);
    // A sparse refusal of a small B_F is re-solved densely, so that refusals there are the dense
    // COD's; beyond dense_recheck_entries the sparse verdict is final (see there).
    if (f * partitions() > detail::sparse_solve_entries && f * partitions() <= detail::dense_recheck_entries &&
        !sol.ok(m_options.residual_tolerance, max_amplification()))
      sol = solve_dense(ids);
    if (!sol.ok(m_options.residual_tolerance, max_amplification())) {
      std::string why = sol.residual > m_options.residual_tolerance
                            ? "1 is not in the span of the responders' rows (residual " + detail::format_g(sol.residual) + " > " +
                                  detail::format_g(m_options.residual_tolerance) + ")"
                            : "ill-conditioned: the decode would amplify rounding by " + detail::format_g(sol.amplification) +
                                  ", an estimated relative error of " +
                                  detail::format_g(4 * sol.amplification * std::numeric_limits<Scalar>::epsilon()) + " > " +
                                  detail::format_g(max_relative_error());
      throw not_decodable(std::to_string(f) + " of " + std::to_string(nodes()) + " nodes responded, " +
                              std::to_string(responders_needed()) + " needed for any pattern; " + why,
                          static_cast<std::size_t>(f), static_cast<std::size_t>(responders_needed()));
    }
    vector<double> by_node = vector<double>::Zero(nodes());
    double products = static_cast<double>(f);  // C of decoding_plan: the decode's f products ...
    for (Index r = 0; r < f; ++r) {
      const Index id = ids[static_cast<std::size_t>(r)];
      by_node[id] = sol.coefficients[r];
      // ... and node id's nnz(b_id) encode products, each scaled by |a_id|
      products += std::abs(sol.coefficients[r]) *
                  static_cast<double>(m_encoding.outerIndexPtr()[id + 1] - m_encoding.outerIndexPtr()[id]);
    }
    return std::make_shared<const plan_type>(p, std::move(by_node), sol.residual, sol.amplification, products,
                                             max_relative_error());
  }

  /// The decoding solve on the dense f × K copy of the responders' rows (small codes).
  decoding_solution solve_dense(const std::vector<Index>& ids) const {
    const auto f = static_cast<Index>(ids.size());
    matrix<double> rows = matrix<double>::Zero(f, partitions());
    for (Index r = 0; r < f; ++r)
      for (typename sparse_matrix<double>::InnerIterator it(m_encoding, ids[static_cast<std::size_t>(r)]); it; ++it)
        rows(r, it.col()) = it.value();
    return solve_decoding_coefficients(rows);
  }

  /// The same solve on the sparse B_F: the responders' rows of B copied as CSR, O(nnz(B_F)).
  decoding_solution solve_sparse(const std::vector<Index>& ids) const {
    const auto f = static_cast<Index>(ids.size());
    sparse_matrix<double> rows(f, partitions());
    Index nnz = 0;
    for (const Index id : ids) nnz += m_encoding.outerIndexPtr()[id + 1] - m_encoding.outerIndexPtr()[id];
    rows.resizeNonZeros(nnz);
    Index pos = 0;
    for (Index r = 0; r < f; ++r) {
      rows.outerIndexPtr()[r] = pos;
      const Index id = ids[static_cast<std::size_t>(r)];
      for (Index q = m_encoding.outerIndexPtr()[id]; q < m_encoding.outerIndexPtr()[id + 1]; ++q, ++pos) {
        rows.innerIndexPtr()[pos] = m_encoding.innerIndexPtr()[q];
        rows.valuePtr()[pos] = m_encoding.valuePtr()[q];
      }
    }
    rows.outerIndexPtr()[f] = pos;
    return solve_decoding_coefficients_sparse(rows);
  }

  assignment m_support;
  sparse_matrix<double> m_encoding;
  sparse_matrix<Scalar> m_encoding_cast;
  std::vector<Index> m_held_position;  // per nonzero of B: its column's position in the node's holdings
  Index m_tolerance;
  decode_options m_options;
  std::unique_ptr<detail::plan_cache<plan_type>> m_cache;
};

}  // namespace gradcode
