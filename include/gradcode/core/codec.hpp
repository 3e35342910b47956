// SPDX-License-Identifier: MIT
// The one interface gradcode's schemes satisfy directly (issue 14): `codec` for one layer
// (workers → master), `hierarchical_codec` for workers → edges → master (tang2024 §III,
// gholami2025 §III; the papers' relay/server are our edge/master), and `decode_report`, what every
// decoder returns. Transports and training integrations are written once against these.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "gradcode/core/pattern.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/core/worker_id.hpp"

namespace gradcode {

/// What a decode did. Every decoder returns one; a decode it refuses throws (not_decodable,
/// corrupted_result, invalid_input) and leaves `out` untouched.
struct decode_report {
  /// Node ids whose messages the result was computed from, ascending.
  std::vector<Index> used{};
  /// Node ids located as corrupted and excluded, ascending; always empty for codes without error
  /// location (the linear codes, HGC).
  std::vector<Index> corrupted{};
  /// How much the decode amplifies the relative rounding of its inputs. At a master this is the
  /// compounded two-layer figure (the master's own times the largest of its edges'), so the
  /// check below covers both layers. 1 for a plain sum.
  double amplification = 1;
  /// The estimated relative error of the result that the decoder accepted (≤ the code's
  /// max_relative_error, else the decode was refused): 4·ε_Scalar·amplification for the linear
  /// codes and HGC (a worst-case sum), ε_Scalar·A for the polynomial code (an RMS estimate,
  /// robust/reed_solomon.hpp).
  double estimated_error = 0;
  /// False when the result is an unbiased estimate of the sum rather than the sum (1-bit GC-DL):
  /// amplification and estimated_error then say nothing about its distance from the sum.
  bool exact = true;
};

namespace detail {
/// ids sorted ascending (a decode's report lists the nodes it used in that order).
inline std::vector<Index> sorted_ids(std::span<const Index> ids) {
  std::vector<Index> out(ids.begin(), ids.end());
  std::sort(out.begin(), out.end());
  return out;
}
/// The largest amplification in `reports` (1 when there is none): what a master compounds.
inline double largest_amplification(std::span<const decode_report> reports) noexcept {
  double a = 1;
  for (const auto& r : reports) a = std::max(a, r.amplification);
  return a;
}
}  // namespace detail

/// One layer: nodes() nodes, any tolerance() of which may straggle; partial gradients are the
/// d × K columns of `in`, a message is message_length(d) scalars, a decode writes d scalars.
// (clang-format 14 splits "{ e } noexcept -> C;" of a requires-expression into two statements.)
// clang-format off
template <class C>
concept codec = requires(const C& c, Index node, Index d, const pattern& p, std::span<const Index> ids,
                         const Eigen::Ref<const matrix<typename C::scalar_type>>& in,
                         Eigen::Ref<vector<typename C::scalar_type>> out) {
  typename C::scalar_type;
  { c.nodes() } -> std::convertible_to<Index>;
  { c.partitions() } -> std::convertible_to<Index>;                  // K
  { c.tolerance() } -> std::convertible_to<Index>;                   // s
  { c.message_length(d) } -> std::convertible_to<Index>;             // scalars per message
  { c.partitions_of(node) } -> std::convertible_to<std::span<const Index>>;
  c.encode(node, in, out);       // from all K partials
  c.encode_held(node, in, out);  // from the partials the node holds, in partitions_of order
  { c.decodable(p) } noexcept -> std::same_as<bool>;
  c.plan(p);                     // the per-pattern solve, cached
  { c.decode(ids, in, out) } -> std::same_as<decode_report>;
};

/// Workers → edges → master: edge i decodes from any edge_wait(i) of its workers(i) workers, the
/// master from any master_wait() of the edges() edges. master_decode takes the reports of the
/// edges it decodes from, so the rounding of both layers is checked on the one path there is.
template <class C>
concept hierarchical_codec = requires(const C& c, worker_id w, Index edge, Index d, const pattern& p,
                                      std::span<const Index> ids, std::span<const decode_report> reports,
                                      const Eigen::Ref<const matrix<typename C::scalar_type>>& in,
                                      Eigen::Ref<vector<typename C::scalar_type>> out) {
  typename C::scalar_type;
  { c.edges() } -> std::convertible_to<Index>;
  { c.workers(edge) } -> std::convertible_to<Index>;
  { c.partitions() } -> std::convertible_to<Index>;
  { c.edge_wait(edge) } -> std::convertible_to<Index>;
  { c.master_wait() } -> std::convertible_to<Index>;
  { c.worker_message_length(edge, d) } -> std::convertible_to<Index>;
  { c.edge_message_length(d) } -> std::convertible_to<Index>;
  { c.worker_partitions(w) } -> std::convertible_to<std::span<const Index>>;
  c.encode(w, in, out);
  c.encode_held(w, in, out);
  { c.edge_decodable(edge, p) } noexcept -> std::same_as<bool>;
  { c.master_decodable(p) } noexcept -> std::same_as<bool>;
  { c.edge_decode(edge, ids, in, out) } -> std::same_as<decode_report>;
  { c.master_decode(ids, in, reports, out) } -> std::same_as<decode_report>;
};
// clang-format on

}  // namespace gradcode
