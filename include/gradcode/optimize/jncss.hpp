// SPDX-License-Identifier: MIT
// Joint node and coding-scheme selection (JNCSS) of tang2024 §IV-C: the exact optimum of problem
// P1 (eqs. 39–47) — tolerances (ŝ_e, ŝ_w) and the selected edges e_i and workers w_(i,j) — as
// Algorithm 2 computes it (with its errata, Theorem 2): jncss() and T̂(s_e, s_w) (eq. 51).
//
// jncss() runs a branch and bound over blocks of (s_e, s_w) pairs (optimize/jncss_solver.hpp, its
// "Algorithm" block) whose optimum, pair, ties and selection are bit-identical to the literal
// transcription jncss_literal() (optimize/jncss_literal.hpp). Options, result and the shared
// selection: optimize/jncss_problem.hpp. Theorem 3's gap bound jncss_gap(): optimize/jncss_gap.hpp.
// This header includes all four, so it gives the whole of JNCSS.
#pragma once

#include <limits>
#include <string>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/optimize/jncss_gap.hpp"
#include "gradcode/optimize/jncss_literal.hpp"
#include "gradcode/optimize/jncss_problem.hpp"
#include "gradcode/optimize/jncss_solver.hpp"
#include "gradcode/optimize/runtime_model.hpp"

namespace gradcode {

/// T̂(s_e, s_w) of eq. (51): the optimum of sub-problem P2 (eq. 50) at fixed tolerances — the
/// (n − s_e)-th smallest over edges of A_i + the (m_i − s_w)-th smallest B_(i,j), at
/// D = K(s_e+1)(s_w+1)/Σm_i. Reads `model` (validated) and K ≥ 1; throws invalid_parameters on
/// a bad model, K < 1, or s_e ∉ [0, n), s_w ∉ [0, min m_i). Does not check code existence.
inline double jncss_pair_time(const runtime_model& model, Index partitions, Index edge_tolerance, Index worker_tolerance) {
  const auto p = detail::jncss_prepare(model, partitions, {.skip_nonexistent_codes = false});
  if (edge_tolerance < 0 || edge_tolerance >= p.edges)
    throw invalid_parameters("JNCSS: s_e = " + std::to_string(edge_tolerance) + " outside [0, n = " + std::to_string(p.edges) +
                             ")");
  if (worker_tolerance < 0 || worker_tolerance >= p.min_workers)
    throw invalid_parameters("JNCSS: s_w = " + std::to_string(worker_tolerance) +
                             " outside [0, min m_i = " + std::to_string(p.min_workers) + ")");
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

}  // namespace gradcode
