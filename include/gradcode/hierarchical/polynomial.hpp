// SPDX-License-Identifier: MIT
// Polynomial hierarchical gradient coding (gholami2025 §V): workers → relays → server with
// stragglers and adversaries at both layers and an arbitrary heterogeneous assignment Γ_(i,j);
// both loads are optimal at once (Theorem 1: C1* = d/m1, C2^(i)* = d/(m1·m2^(i))).
// One header (~700 lines): one class over one state (points, coefficients, both layers' codes).
//
// Algorithm (0-based here, 1-based in the paper; A_k = clusters holding D_k, A_k^(n) = workers
// of cluster n holding it; r1 = min_k |A_k| (eq. 5), r2,n = min_{k∈Γ_n} |A_k^(n)| (eq. 6)):
//   m1 = r1 − 2a1 − s1, m2^(n) = r2,n − 2a2^(n) − s2^(n); g_k is cut into m1 parts g_k[l1] of
//   ⌈d/m1⌉ reals and, for cluster n, part l1 into m2^(n) sub-parts g_k[l1,l2] (zero padded).
//   relay coefficient (g̃_n after eq. 13):
//     u_n(k,l1) = ∏_{i∉A_k} (α_n − α_i)/(β_l1 − α_i) · ∏_{u≠l1} (α_n − β_u)/(β_l1 − β_u)
//   worker coefficient (p_l2^(n) before eq. 14 with α_n^(1) for the misprinted α_1^(1), eq. 15):
//     c_(n,j)(k,l1,l2) = u_n(k,l1) · ∏_{j'∉A_k^(n)} (α_j − α_j')/(β_l2 − α_j')
//                                   · ∏_{u≠l2} (α_j − β_u)/(β_l2 − β_u)
//   worker (n,j):  g̃_(n,j) = Σ_{k∈Γ_(n,j)} Σ_l1 Σ_l2 c_(n,j)(k,l1,l2) g_k[l1,l2] = f_intraC^(n)(α_j)  (eq. 15)
//   relay n:       f_intraC^(n) has degree < K2 = N2^(n) − 2a2^(n) − s2^(n) (eq. 14); Reed–Solomon
//                  decode (locate adversaries, interpolate) → g̃_n[l2] = f_intraC^(n)(β_l2), i.e.
//                  g̃_n = f_C2S(α_n) (d/m1 reals)
//   server:        f_C2S has degree < K1 = N1 − 2a1 − s1 (eq. 13); decode → g[l1] = f_C2S(β_l1).
// Points: robust/evaluation_points.hpp (default: complex unit circle, pairs of reals per complex
// unit, so a message of d/(m1 m2) reals is d/(2 m1 m2) complex numbers; safe region and the
// tests that measured it are listed there), assigned to nodes by robust/point_order.hpp.
// Decoding: robust/reed_solomon.hpp (Berlekamp–Welch location on random projections, then
// Arnoldi interpolation from the clean nodes only).
//
// Rounding check (DESIGN.md "Numerical accuracy"; the error amplification A and the estimate ε·A
// are defined in robust/reed_solomon.hpp): worker (n,j)'s message combines the data with
// coefficients of ℓ2 norm ‖c_(n,j)‖ = √(Σ_{k∈Γ_(n,j)} Σ_l1 |u_n(k,l1)|² · Σ_l2 |v_(n,j)(k,l2)|²)
// (v the intra-cluster factor of c = u·v) summed over T = |Γ_(n,j)|·m1·m2 terms, so its node scale
// is W2_(n,j) = ‖c_(n,j)‖·(1 + √T/6) (sums of T terms round like √T·ε/6 typically, up to
// 0.45·√T·ε in the worst message; measured for T = 48..14400); relay n's target scale, and its node scale at the server, is
// W1_n = √(Σ_{k∈Γ_n} Σ_l1 |u_n(k,l1)|²); the server's target scale is √K. Each layer thus measures
// its error relative to the data; relay n's A_n goes with its message and the server compounds
// both layers (server_decode(…, relay_amplification), simulate_round). Each decode, and the
// compound, throws not_decodable beyond robust_options::max_relative_error (1e-9 double, 1e-4
// float) with `out` untouched: this refuses the paper's integer points where they lose all
// accuracy (N ≳ 10; 8e2–5e4 relative error at N = 12–13 was returned silently before), while the
// unit circle keeps decoding everything measured up to N = 64 (double and float; float rounds at
// N = 64, r = 32 measure up to 9e-5, at the edge of the budget). Measured errors stay below the
// estimate: ≤ 0.72·ε·A for N ≤ 32, 0.94·ε·A at N = 64 (float), 0.55 in double.
//
// Reading of the paper (README "Notes on the papers"): r1, r2,i are eqs. (5)–(6) computed from Γ;
// p^(n)_l2's last product uses α_n^(1) (printed α_1^(1)); in §IV f_C2S's last term is g_9[2]
// (printed g_9[1]) and f_intraC^(3)'s g_5[2] term is 3(x2−1)/(−1) (printed /1); parts are
// ⌈d/m1⌉ reals (⌈d/(2m1)⌉ complex units) and sub-parts ⌈part/m2^(n)⌉, zero padded, and a relay
// forwards only the first ⌈d/m1⌉ of its m2·⌈…⌉ decoded values (the rest is padding); the paper
// does not say how adversaries are found — decoders correct up to ⌊(f − K)/2⌋ corrupted
// messages (≥ a when f ≥ N − s respond), treat non-finite messages as corrupted, and report
// whom they excluded; a worker with Γ_(i,j) = ∅ is allowed (it sends f_intraC(α_j) = 0).
//
// Included from here, so this header still gives everything: the placement generator
// (polynomial_placement.hpp), the faults and driver of a simulated round (polynomial_round.hpp),
// the complex streaming kernel of the encode (polynomial_kernel.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/assignment.hpp"
#include "gradcode/core/codec.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/pattern.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/core/worker_id.hpp"
#include "gradcode/detail/weighted_sum.hpp"
#include "gradcode/hierarchical/polynomial_kernel.hpp"
#include "gradcode/hierarchical/polynomial_placement.hpp"  // place_partitions, for users of this header
#include "gradcode/hierarchical/polynomial_round.hpp"
#include "gradcode/robust/evaluation_points.hpp"
#include "gradcode/robust/point_order.hpp"
#include "gradcode/robust/reed_solomon.hpp"

namespace gradcode {

/// What the polynomial hierarchical code is.
struct polynomial_hgc_params {
  Index dimension = 0;  ///< d, length of the gradient
  /// Γ_(i,j): clusters[i] maps worker j of cluster i to the global partitions it holds (every
  /// cluster over the same K; N1 = clusters.size(), N2^(i) = clusters[i].nodes()).
  std::vector<assignment> clusters{};
  Index relay_stragglers = 0;                       ///< s1
  Index relay_adversaries = 0;                      ///< a1
  std::vector<Index> worker_stragglers{};           ///< s2^(i): one per cluster, or one for all (empty = 0)
  std::vector<Index> worker_adversaries{};          ///< a2^(i): one per cluster, or one for all (empty = 0)
  point_family points = point_family::unit_circle;  ///< α, β of both layers
  /// Let the code choose which point each relay / worker evaluates at (robust/point_order.hpp)
  /// when the identity order has coefficient growth > 1e2 (scattered supports). Never for the
  /// paper's points, whose order the known-answer tests fix.
  bool order_points = true;
};

template <class Scalar>
class polynomial_hgc {
 public:
  using scalar_type = Scalar;
  using complex = std::complex<double>;

  /// Derives r1, r2,i, m1, m2^(i) from Γ and builds both layers. Throws invalid_parameters when
  /// m1 < 1 or some m2^(i) < 1 (naming the r that is too small and what would fit), on
  /// inconsistent K or K < 1, negative tolerances, d outside [1, 2^40], N1 or some N2^(i) above
  /// max_layer_nodes, or a robust_options field out of range — always before any arithmetic
  /// on them can overflow.
  explicit polynomial_hgc(polynomial_hgc_params params, const robust_options& options = {})
      : m_d(params.dimension),
        m_clusters(std::move(params.clusters)),
        m_s1(params.relay_stragglers),
        m_a1(params.relay_adversaries),
        m_family(params.points),
        m_options(options) {
    const auto n1 = static_cast<Index>(m_clusters.size());
    if (m_d < 1) throw invalid_parameters("polynomial HGC: d = " + std::to_string(m_d) + "; need d >= 1");
    if (m_d > max_dimension)
      throw invalid_parameters("polynomial HGC: d = " + std::to_string(m_d) +
                               "; need d <= 2^40 = " + std::to_string(max_dimension));
    if (n1 < 1) throw invalid_parameters("polynomial HGC: no clusters");
    if (n1 > max_layer_nodes)
      throw invalid_parameters("polynomial HGC: N1 = " + std::to_string(n1) +
                               " clusters; need N1 <= " + std::to_string(max_layer_nodes));
    detail::check_robust_options(m_options, reed_solomon_code<Scalar>::max_projections);
    m_K = m_clusters[0].partitions();
    if (m_K < 1) throw invalid_parameters("polynomial HGC: K = " + std::to_string(m_K) + " partitions; need K >= 1");
    for (Index i = 0; i < n1; ++i) {
      const auto& c = m_clusters[static_cast<std::size_t>(i)];
      if (c.partitions() != m_K)
        throw invalid_parameters("polynomial HGC: cluster " + std::to_string(i) + " is over K = " +
                                 std::to_string(c.partitions()) + " partitions, cluster 0 over K = " + std::to_string(m_K));
      if (c.nodes() < 1 || c.nodes() > max_layer_nodes)
        throw invalid_parameters("polynomial HGC: cluster " + std::to_string(i) + " has N2 = " + std::to_string(c.nodes()) +
                                 " workers; need 1 <= N2 <= " + std::to_string(max_layer_nodes));
    }
    if (m_s1 < 0 || m_a1 < 0)
      throw invalid_parameters("polynomial HGC: s1 = " + std::to_string(m_s1) + ", a1 = " + std::to_string(m_a1) +
                               " must be >= 0");
    m_s2 = per_cluster(params.worker_stragglers, "s2");
    m_a2 = per_cluster(params.worker_adversaries, "a2");

    // Γ_n, A_k, r1 (eq. 5).
    m_cluster_partitions.resize(static_cast<std::size_t>(n1));
    m_relays_of.assign(static_cast<std::size_t>(m_K), {});
    for (Index i = 0; i < n1; ++i) {
      const auto& c = m_clusters[static_cast<std::size_t>(i)];
      for (Index k = 0; k < m_K; ++k)
        if (!c.holders_of(k).empty()) {
          m_cluster_partitions[static_cast<std::size_t>(i)].push_back(k);
          m_relays_of[static_cast<std::size_t>(k)].push_back(i);
        }
    }
    m_r1 = n1;
    Index thinnest = 0;
    for (Index k = 0; k < m_K; ++k)
      if (static_cast<Index>(m_relays_of[static_cast<std::size_t>(k)].size()) < m_r1)
        m_r1 = static_cast<Index>(m_relays_of[static_cast<std::size_t>(k)].size()), thinnest = k;
    // r ≤ max_layer_nodes: with s, a ≤ r the products below cannot overflow (a = 2^62 could).
    m_m1 = part_count(m_r1, m_s1, m_a1);
    if (m_m1 < 1)
      throw invalid_parameters("polynomial HGC: m1 = r1 − 2a1 − s1 = " + std::to_string(m_r1) + " − 2·" + std::to_string(m_a1) +
                               " − " + std::to_string(m_s1) + (small(m_s1, m_a1) ? " = " + std::to_string(m_m1) : std::string()) +
                               " < 1: r1 = " + std::to_string(m_r1) + " (partition " + std::to_string(thinnest) + " is in only " +
                               std::to_string(m_r1) + " of " + std::to_string(n1) + " clusters) is too small for s1 = " +
                               std::to_string(m_s1) + " straggling and a1 = " + std::to_string(m_a1) + " adversarial relays; " +
                               (small(m_s1, m_a1) ? "r1 >= " + std::to_string(2 * m_a1 + m_s1 + 1) + " or " : std::string()) +
                               "s1 + 2a1 <= " + std::to_string(m_r1 - 1) + " would fit");
    // r2,n (eq. 6), m2^(n).
    m_r2.resize(static_cast<std::size_t>(n1));
    m_m2.resize(static_cast<std::size_t>(n1));
    for (Index i = 0; i < n1; ++i) {
      const auto& c = m_clusters[static_cast<std::size_t>(i)];
      const auto su = static_cast<std::size_t>(i);
      Index r2 = c.nodes(), thin = -1;
      for (Index k : m_cluster_partitions[su])
        if (static_cast<Index>(c.holders_of(k).size()) < r2) r2 = static_cast<Index>(c.holders_of(k).size()), thin = k;
      m_r2[su] = r2;
      m_m2[su] = part_count(r2, m_s2[su], m_a2[su]);
      const bool fits = small(m_s2[su], m_a2[su]);
      if (m_m2[su] < 1)
        throw invalid_parameters("polynomial HGC: cluster " + std::to_string(i) + ": m2 = r2 − 2a2 − s2 = " + std::to_string(r2) +
                                 " − 2·" + std::to_string(m_a2[su]) + " − " + std::to_string(m_s2[su]) +
                                 (fits ? " = " + std::to_string(m_m2[su]) : std::string()) + " < 1: r2," + std::to_string(i) +
                                 " = " + std::to_string(r2) +
                                 (thin >= 0 ? " (partition " + std::to_string(thin) + " is on only " + std::to_string(r2) +
                                                  " of its " + std::to_string(c.nodes()) + " workers)"
                                            : std::string()) +
                                 " is too small for s2 = " + std::to_string(m_s2[su]) +
                                 " straggling and a2 = " + std::to_string(m_a2[su]) + " adversarial workers; " +
                                 (fits ? "r2 >= " + std::to_string(2 * m_a2[su] + m_s2[su] + 1) + " or " : std::string()) +
                                 "s2 + 2a2 <= " + std::to_string(r2 - 1) + " would fit");
    }

    // Points, message layout, relay coefficients, decoders.
    const bool reorder = params.order_points && m_family != point_family::paper;
    m_layer1 = make_evaluation_points(m_family, n1, m_m1);
    if (reorder) permute_nodes(m_layer1, order_points(m_layer1, m_relays_of));
    m_w = m_layer1.real ? 1 : 2;
    m_p1 = ceil_div(m_d, m_w * m_m1);
    m_layer2.reserve(static_cast<std::size_t>(n1));
    for (Index i = 0; i < n1; ++i) {
      const auto su = static_cast<std::size_t>(i);
      m_layer2.push_back(make_evaluation_points(m_family, m_clusters[su].nodes(), m_m2[su]));
      if (reorder) permute_nodes(m_layer2.back(), order_points(m_layer2.back(), worker_supports(i)));
      m_p2.push_back(ceil_div(m_p1, m_m2[su]));
    }
    build_relay_coefficients();
    // Coefficient ℓ2 norms for the rounding check (header note): W1_n per relay, W2_(n,j) per
    // worker (clamped to the double range: an overflowing scale makes every decode refuse).
    auto finite = [](double x) { return std::isfinite(x) ? x : std::numeric_limits<double>::max(); };
    std::vector<double> w1(static_cast<std::size_t>(n1));
    for (Index i = 0; i < n1; ++i) w1[static_cast<std::size_t>(i)] = finite(m_relay_coeff[static_cast<std::size_t>(i)].norm());
    for (Index i = 0; i < n1; ++i) {
      const auto su = static_cast<std::size_t>(i);
      std::vector<double> w2 = intra_norms(i);
      // A message sums T = |Γ_(n,j)|·m1·m2 terms: its rounding grows like √T (the worst of a
      // cluster's messages 0.2–0.45·√T·ε for T = 48..14400, tests/hierarchical/polynomial_test.cpp
      // "… summing T terms …"); √T/6 is the typical growth, calibrated on whole decodes ("… the
      // estimated error bounds the measured error …").
      for (Index j = 0; j < m_clusters[su].nodes(); ++j) {
        const auto terms = static_cast<double>(m_clusters[su].partitions_of(j).size()) * static_cast<double>(m_m1 * m_m2[su]);
        w2[static_cast<std::size_t>(j)] = finite(std::sqrt(w2[static_cast<std::size_t>(j)]) * (1 + std::sqrt(terms) / 6));
      }
      reed_solomon_params rs{m_layer2[su].nodes, m_layer2[su].targets, m_clusters[su].nodes() - 2 * m_a2[su] - m_s2[su],
                             m_w * m_p2[su], m_w == 2};
      rs.node_scales = std::move(w2);
      rs.target_scale = w1[su] > 0 ? w1[su] : 1.0;  // a relay holding nothing forwards exact zeros
      m_relay_codes.emplace_back(std::move(rs), m_options);
    }
    reed_solomon_params rs{m_layer1.nodes, m_layer1.targets, n1 - 2 * m_a1 - m_s1, m_w * m_p1, m_w == 2};
    rs.node_scales = std::move(w1);
    rs.target_scale = std::sqrt(static_cast<double>(m_K));
    m_server_code = std::make_unique<reed_solomon_code<Scalar>>(std::move(rs), m_options);
  }

  /// Largest d a code accepts (2^40 reals): every length and offset stays far inside Index.
  static constexpr Index max_dimension = Index{1} << 40;

  polynomial_hgc(const polynomial_hgc& o)
      : m_d(o.m_d),
        m_K(o.m_K),
        m_clusters(o.m_clusters),
        m_s1(o.m_s1),
        m_a1(o.m_a1),
        m_s2(o.m_s2),
        m_a2(o.m_a2),
        m_family(o.m_family),
        m_options(o.m_options),
        m_cluster_partitions(o.m_cluster_partitions),
        m_relays_of(o.m_relays_of),
        m_r1(o.m_r1),
        m_m1(o.m_m1),
        m_r2(o.m_r2),
        m_m2(o.m_m2),
        m_layer1(o.m_layer1),
        m_layer2(o.m_layer2),
        m_w(o.m_w),
        m_p1(o.m_p1),
        m_p2(o.m_p2),
        m_relay_coeff(o.m_relay_coeff),
        m_relay_codes(o.m_relay_codes),
        m_server_code(std::make_unique<reed_solomon_code<Scalar>>(*o.m_server_code)) {}
  polynomial_hgc(polynomial_hgc&&) noexcept = default;

  // --- topology and parameters -----------------------------------------------------------
  /// d.
  Index dimension() const noexcept { return m_d; }
  /// K.
  Index partitions() const noexcept { return m_K; }
  /// N1, number of relays (clusters).
  Index relays() const noexcept { return static_cast<Index>(m_clusters.size()); }
  /// N2^(i), workers of cluster i.
  Index workers(Index relay) const { return cluster(relay).nodes(); }
  /// s1, a1.
  Index relay_stragglers() const noexcept { return m_s1; }
  Index relay_adversaries() const noexcept { return m_a1; }
  /// s2^(i), a2^(i).
  Index worker_stragglers(Index relay) const { return m_s2[check_relay(relay)]; }
  Index worker_adversaries(Index relay) const { return m_a2[check_relay(relay)]; }
  /// r1 = min_k |A_k| (eq. 5).
  Index relay_replication() const noexcept { return m_r1; }
  /// r2,i = min_{k∈Γ_i} |A_k^(i)| (eq. 6).
  Index worker_replication(Index relay) const { return m_r2[check_relay(relay)]; }
  /// m1 = r1 − 2a1 − s1: parts per gradient.
  Index relay_parts() const noexcept { return m_m1; }
  /// m2^(i) = r2,i − 2a2^(i) − s2^(i): sub-parts per part in cluster i.
  Index worker_parts(Index relay) const { return m_m2[check_relay(relay)]; }
  /// Γ_i: partitions held in cluster i, ascending.
  std::span<const Index> relay_partitions(Index relay) const { return m_cluster_partitions[check_relay(relay)]; }
  /// Γ_(i,j): partitions worker (i,j) computes on, ascending (its computation load is the size).
  std::span<const Index> worker_partitions(worker_id w) const { return cluster(check_worker(w).edge).partitions_of(w.worker); }
  /// The Γ_(i,j) of cluster i.
  const assignment& cluster_assignment(Index relay) const { return cluster(relay); }
  point_family points() const noexcept { return m_family; }
  /// α^(1), β^(1) (relays → server).
  const evaluation_points& relay_points() const noexcept { return m_layer1; }
  /// α^(2), β^(2) of cluster i (its workers → relay i).
  const evaluation_points& worker_points(Index relay) const { return m_layer2[check_relay(relay)]; }

  /// Coefficient growth of the relay layer, max |u_n(k,l1)| (robust/point_order.hpp): rounding
  /// in the relay messages is ~ε times this relative to the data. ≤ ~10 for cyclic placements.
  double relay_coefficient_growth() const { return coefficient_growth(m_layer1, m_relays_of); }
  /// Coefficient growth of cluster i's worker layer: max over k ∈ Γ_i, l2, j ∈ A_k^(i) of the
  /// intra-cluster factor |c_(i,j)(k,l1,l2) / u_i(k,l1)|.
  double worker_coefficient_growth(Index relay) const {
    return coefficient_growth(m_layer2[check_relay(relay)], worker_supports(relay));
  }

  // --- communication loads ----------------------------------------------------------------
  /// C1: reals per relay message, w·⌈d/(w·m1)⌉ (w = 2 for complex points, else 1); equals
  /// Theorem 1's d/m1 whenever w·m1 divides d.
  Index relay_message_length() const noexcept { return m_w * m_p1; }
  /// C2^(i): reals per worker message in cluster i, w·⌈⌈d/(w·m1)⌉/m2^(i)⌉; equals d/(m1 m2^(i))
  /// whenever w·m1·m2^(i) divides d.
  Index worker_message_length(Index relay) const { return m_w * m_p2[check_relay(relay)]; }
  /// Theorem 1: C1* = d/m1.
  double relay_load_bound() const noexcept { return static_cast<double>(m_d) / static_cast<double>(m_m1); }
  /// Theorem 1: C2^(i)* = d/(m1 m2^(i)).
  double worker_load_bound(Index relay) const {
    return static_cast<double>(m_d) / static_cast<double>(m_m1 * m_m2[check_relay(relay)]);
  }

  // --- coefficients -----------------------------------------------------------------------
  /// u_n(k, l1): the coefficient of g_k[l1] in relay n's message g̃_n = f_C2S(α_n) (0 unless k ∈ Γ_n).
  complex relay_coefficient(Index relay, Index k, Index l1) const {
    check_relay(relay);
    check_partition(k);
    check_part(l1, m_m1, "l1");
    const auto& held = m_cluster_partitions[static_cast<std::size_t>(relay)];
    const auto it = std::lower_bound(held.begin(), held.end(), k);
    if (it == held.end() || *it != k) return 0.0;
    return m_relay_coeff[static_cast<std::size_t>(relay)](it - held.begin(), l1);
  }
  /// c_(n,j)(k, l1, l2): the coefficient of g_k[l1, l2] in worker (n,j)'s message
  /// f_intraC^(n)(α_j) (0 unless k ∈ Γ_(n,j)).
  complex worker_coefficient(worker_id w, Index k, Index l1, Index l2) const {
    check_worker(w);
    check_partition(k);
    check_part(l1, m_m1, "l1");
    check_part(l2, m_m2[static_cast<std::size_t>(w.edge)], "l2");
    const auto mine = worker_partitions(w);
    if (!std::binary_search(mine.begin(), mine.end(), k)) return 0.0;
    return relay_coefficient(w.edge, k, l1) * intra_factor(w, k, l2);
  }

  // --- worker -----------------------------------------------------------------------------
  /// g̃_(n,j) = f_intraC^(n)(α_j) (eq. 15) from the full d × K partial gradients (only the
  /// columns in Γ_(n,j) are read); out has worker_message_length(n). Throws invalid_input on a
  /// bad worker, shapes, or a non-finite result.
  void encode(worker_id w, const Eigen::Ref<const matrix<Scalar>>& partials, Eigen::Ref<vector<Scalar>> out) const {
    check_worker(w);
    if (partials.cols() != m_K || partials.rows() != m_d)
      throw invalid_input("polynomial HGC encode: partials are " + std::to_string(partials.rows()) + " × " +
                              std::to_string(partials.cols()) + ", need d × K = " + std::to_string(m_d) + " × " +
                              std::to_string(m_K),
                          w.worker);
    encode_columns(w, partials, out, [](Index k, Index) { return k; });
  }
  /// Same from only the partitions the worker holds: `held` is d × |Γ_(n,j)|, columns in the
  /// order of worker_partitions(w).
  void encode_held(worker_id w, const Eigen::Ref<const matrix<Scalar>>& held, Eigen::Ref<vector<Scalar>> out) const {
    check_worker(w);
    const auto load = static_cast<Index>(worker_partitions(w).size());
    if (held.cols() != load || held.rows() != m_d)
      throw invalid_input("polynomial HGC encode_held: worker (" + std::to_string(w.edge) + "," + std::to_string(w.worker) +
                              ") holds " + std::to_string(load) + " partitions of length d = " + std::to_string(m_d) + ", got " +
                              std::to_string(held.rows()) + " × " + std::to_string(held.cols()),
                          w.worker);
    encode_columns(w, held, out, [](Index, Index position) { return position; });
  }
  vector<Scalar> encode(worker_id w, const Eigen::Ref<const matrix<Scalar>>& partials) const {
    vector<Scalar> out(worker_message_length(check_worker(w).edge));
    encode(w, partials, out);
    return out;
  }

  // --- relay ------------------------------------------------------------------------------
  /// True when the workers in `p` (over N2^(i)) suffice for relay i: at least N2 − 2a2 − s2.
  bool relay_decodable(Index relay, const pattern& p) const noexcept {
    return relay >= 0 && relay < relays() && m_relay_codes[static_cast<std::size_t>(relay)].decodable(p);
  }
  /// g̃_n = (f_intraC^(n)(β_1), …, f_intraC^(n)(β_m2))[:C1] from the messages of workers `ids`
  /// of cluster n (C2^(n) × |ids|), adversaries located and excluded. The report's
  /// error_amplification is A_n (header note): pass it on to server_decode(…, relay_amplification).
  /// Throws invalid_input, not_decodable (also when ε·A_n exceeds max_relative_error) or
  /// corrupted_result, each naming the relay; `out` is untouched when it throws.
  robust_report relay_decode(Index relay, std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                             Eigen::Ref<vector<Scalar>> out) const {
    const auto& code = m_relay_codes[check_relay(relay)];
    if (out.size() != relay_message_length())
      throw invalid_input("relay " + std::to_string(relay) + ": output has length " + std::to_string(out.size()) +
                          ", C1 = " + std::to_string(relay_message_length()));
    return detail::with_context("relay " + std::to_string(relay) + " (workers)", [&] { return code.decode(ids, messages, out); });
  }
  vector<Scalar> relay_decode(Index relay, std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                              robust_report* report = nullptr) const {
    vector<Scalar> out(relay_message_length());
    auto r = relay_decode(relay, ids, messages, out);
    if (report) *report = std::move(r);
    return out;
  }
  /// The Reed–Solomon code of cluster i's workers (locate/interpolate separately, introspection).
  const reed_solomon_code<Scalar>& relay_code(Index relay) const { return m_relay_codes[check_relay(relay)]; }

  // --- server -----------------------------------------------------------------------------
  bool server_decodable(const pattern& p) const noexcept { return m_server_code->decodable(p); }
  /// g = (f_C2S(β_1), …, f_C2S(β_m1))[:d] from the messages of relays `ids` (C1 × |ids|),
  /// adversarial relays located and excluded. Checks the server layer's own rounding (A_0,
  /// header note). Throws invalid_input, not_decodable (also beyond max_relative_error) or
  /// corrupted_result, naming the server; `out` is untouched when it throws.
  robust_report server_decode(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                              Eigen::Ref<vector<Scalar>> out) const {
    return server_decode(ids, messages, out, std::span<const double>{});
  }
  /// The same, checking both layers together: relay_amplification[t] is A_n of the relay whose
  /// message is column t (its relay_decode report's error_amplification), and the decode is
  /// refused (not_decodable naming the server and the numbers) when the compounded estimate
  /// (header note) exceeds max_relative_error — a result each layer would accept on its own can
  /// still be noise. Empty =
  /// server layer only. invalid_input when the count differs from |ids| or a value is not finite
  /// and >= 0.
  robust_report server_decode(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                              Eigen::Ref<vector<Scalar>> out, std::span<const double> relay_amplification) const {
    if (out.size() != m_d)
      throw invalid_input("server: output has length " + std::to_string(out.size()) + ", d = " + std::to_string(m_d));
    return detail::with_context("server (relays)",
                                [&] { return m_server_code->decode(ids, messages, out, relay_amplification); });
  }
  vector<Scalar> server_decode(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                               robust_report* report = nullptr) const {
    vector<Scalar> out(m_d);
    auto r = server_decode(ids, messages, out);
    if (report) *report = std::move(r);
    return out;
  }
  const reed_solomon_code<Scalar>& server_code() const noexcept { return *m_server_code; }

  // --- hierarchical_codec (core/codec.hpp): workers → edges (relays) → master (server) ------
  Index edges() const noexcept { return relays(); }
  /// N2^(i) − s2,i: an edge waits for every message it may get, so the spare ones locate adversaries.
  Index edge_wait(Index edge) const { return workers(edge) - worker_stragglers(edge); }
  /// N1 − s1.
  Index master_wait() const noexcept { return relays() - relay_stragglers(); }
  /// C2^(i) and C1; the code is built for one d (params.dimension): another d is invalid_input.
  Index worker_message_length(Index edge, Index d) const { return check_dimension(d), worker_message_length(edge); }
  Index edge_message_length(Index d) const { return check_dimension(d), relay_message_length(); }
  bool edge_decodable(Index edge, const pattern& p) const noexcept { return relay_decodable(edge, p); }
  bool master_decodable(const pattern& p) const noexcept { return server_decodable(p); }
  /// relay_decode; the report's amplification is A_n, for master_decode.
  decode_report edge_decode(Index edge, std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                            Eigen::Ref<vector<Scalar>> out) const {
    return as_decode_report(relay_decode(edge, ids, messages, out));
  }
  /// server_decode with the relays' amplifications (edge_reports[t] for the relay of column t):
  /// both layers checked together. invalid_input when there is not one report per id.
  decode_report master_decode(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                              std::span<const decode_report> edge_reports, Eigen::Ref<vector<Scalar>> out) const {
    if (edge_reports.size() != ids.size())
      throw invalid_input("server: " + std::to_string(edge_reports.size()) + " relay reports for " + std::to_string(ids.size()) +
                          " relay ids");
    std::vector<double> amplification(edge_reports.size());
    for (std::size_t t = 0; t < edge_reports.size(); ++t) amplification[t] = edge_reports[t].amplification;
    return as_decode_report(server_decode(ids, messages, out, amplification));
  }
  /// The codec vocabulary's report of a Reed–Solomon decode (amplification = A).
  static decode_report as_decode_report(robust_report r) {
    return {.used = std::move(r.used),
            .corrupted = std::move(r.corrupted),
            .amplification = r.error_amplification,
            .estimated_error = r.estimated_error,
            .exact = true};
  }

  /// One round end to end (tests, examples): every live worker of every live relay encodes
  /// (adversaries' messages altered), relays decode, the server decodes with the relays'
  /// amplifications (the compounded rounding check). Throws what the decoders throw (naming the
  /// relay or the server); invalid_input for a straggling or adversarial id out of range.
  polynomial_round_result<Scalar> simulate_round(const Eigen::Ref<const matrix<Scalar>>& partials,
                                                 const polynomial_round<Scalar>& faults = {}) const {
    for (const auto& w : faults.straggling_workers) check_worker(w);
    for (const auto& w : faults.adversarial_workers) check_worker(w);
    for (Index r : faults.adversarial_relays) check_relay(r);
    return detail::run_polynomial_round<Scalar>(*this, partials, faults);
  }

 private:
  static Index ceil_div(Index a, Index b) { return a / b + (a % b != 0); }  // a + b − 1 could overflow
  /// r − 2a − s when s, a ≤ r, else 0 (too small either way, without the overflow of 2a).
  static Index part_count(Index r, Index s, Index a) { return s <= r && a <= r ? r - 2 * a - s : 0; }
  /// s and a small enough that 2a + s + 1 is exact (for the messages).
  static bool small(Index s, Index a) { return s <= max_layer_nodes && a <= max_layer_nodes; }

  std::vector<Index> per_cluster(const std::vector<Index>& v, const char* name) const {
    const auto n1 = static_cast<Index>(m_clusters.size());
    std::vector<Index> out;
    if (v.empty())
      out.assign(static_cast<std::size_t>(n1), 0);
    else if (v.size() == 1)
      out.assign(static_cast<std::size_t>(n1), v[0]);
    else if (static_cast<Index>(v.size()) == n1)
      out = v;
    else
      throw invalid_parameters(std::string("polynomial HGC: ") + std::to_string(v.size()) + " values of " + name +
                               " for N1 = " + std::to_string(n1) + " clusters (give one per cluster or one for all)");
    for (Index i = 0; i < n1; ++i)
      if (out[static_cast<std::size_t>(i)] < 0)
        throw invalid_parameters(std::string("polynomial HGC: ") + name + " of cluster " + std::to_string(i) + " is negative");
    return out;
  }

  /// A_k^(i) for k ∈ Γ_i.
  std::vector<std::vector<Index>> worker_supports(Index relay) const {
    std::vector<std::vector<Index>> out;
    const auto& c = cluster(relay);
    for (Index k : m_cluster_partitions[static_cast<std::size_t>(relay)]) {
      const auto h = c.holders_of(k);
      out.emplace_back(h.begin(), h.end());
    }
    return out;
  }
  static void permute_nodes(evaluation_points& pts, const std::vector<Index>& order) {
    std::vector<std::complex<double>> nodes(pts.nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) nodes[i] = pts.nodes[static_cast<std::size_t>(order[i])];
    pts.nodes = std::move(nodes);
  }

  /// u_n(k, l1) for k ∈ Γ_n (the relay's coefficients, g̃_n after eq. 13).
  void build_relay_coefficients() {
    const auto& a = m_layer1.nodes;
    m_relay_coeff.resize(m_clusters.size());
    for (Index n = 0; n < relays(); ++n) {
      const auto& held = m_cluster_partitions[static_cast<std::size_t>(n)];
      auto& u = m_relay_coeff[static_cast<std::size_t>(n)];
      u.resize(static_cast<Index>(held.size()), m_m1);
      const complex an = a[static_cast<std::size_t>(n)];
      for (std::size_t t = 0; t < held.size(); ++t) {
        const auto& holders = m_relays_of[static_cast<std::size_t>(held[t])];
        for (Index l1 = 0; l1 < m_m1; ++l1) u(static_cast<Index>(t), l1) = lagrange_factor(m_layer1, holders, an, l1);
      }
    }
  }

  /// ‖c_(n,j)‖² = Σ_{k∈Γ_(n,j)} Σ_l1 |u_n(k,l1)|² Σ_l2 |v_(n,j)(k,l2)|² for every worker j of cluster
  /// n, with |v| from sums of logs of the factors of intra_factor(): O(|Γ_n|·(r2 + m2)·N2 + N2·m2²)
  /// instead of O(Σ_j |Γ_(n,j)|·m2·N2), and no overflow in the partial products.
  std::vector<double> intra_norms(Index relay) const {
    const auto su = static_cast<std::size_t>(relay);
    const auto& pts = m_layer2[su];
    const auto n2 = static_cast<Index>(pts.nodes.size()), m2 = static_cast<Index>(pts.targets.size());
    auto lg = [](std::complex<double> x) { return std::log(std::abs(x)); };
    matrix<double> ll(n2, m2);  // Σ_{u≠l2} log|α_j − β_u| − log|β_l2 − β_u|
    for (Index j = 0; j < n2; ++j)
      for (Index l2 = 0; l2 < m2; ++l2) {
        double v = 0;
        for (Index u = 0; u < m2; ++u)
          if (u != l2)
            v += lg(pts.nodes[static_cast<std::size_t>(j)] - pts.targets[static_cast<std::size_t>(u)]) -
                 lg(pts.targets[static_cast<std::size_t>(l2)] - pts.targets[static_cast<std::size_t>(u)]);
        ll(j, l2) = v;
      }
    std::vector<double> out(static_cast<std::size_t>(n2), 0.0);
    std::vector<char> holds(static_cast<std::size_t>(n2));
    std::vector<double> lp(static_cast<std::size_t>(m2));
    const auto& held = m_cluster_partitions[su];
    for (std::size_t row = 0; row < held.size(); ++row) {
      const auto holders = m_clusters[su].holders_of(held[row]);
      std::fill(holds.begin(), holds.end(), 0);
      for (Index j : holders) holds[static_cast<std::size_t>(j)] = 1;
      for (Index l2 = 0; l2 < m2; ++l2) {  // −Σ_{j'∉A_k} log|β_l2 − α_j'|
        double v = 0;
        for (Index q = 0; q < n2; ++q)
          if (!holds[static_cast<std::size_t>(q)])
            v -= lg(pts.targets[static_cast<std::size_t>(l2)] - pts.nodes[static_cast<std::size_t>(q)]);
        lp[static_cast<std::size_t>(l2)] = v;
      }
      const double u2 = m_relay_coeff[su].row(static_cast<Index>(row)).squaredNorm();
      for (Index j : holders) {
        double ln = 0;  // Σ_{j'∉A_k} log|α_j − α_j'|
        for (Index q = 0; q < n2; ++q)
          if (!holds[static_cast<std::size_t>(q)])
            ln += lg(pts.nodes[static_cast<std::size_t>(j)] - pts.nodes[static_cast<std::size_t>(q)]);
        double v2 = 0;
        for (Index l2 = 0; l2 < m2; ++l2) v2 += std::exp(2 * (ln + lp[static_cast<std::size_t>(l2)] + ll(j, l2)));
        out[static_cast<std::size_t>(j)] += u2 * v2;
      }
    }
    return out;
  }

  /// ∏_{i∉holders} (x − α_i)/(β_t − α_i) · ∏_{u≠t} (x − β_u)/(β_t − β_u) over the nodes α and
  /// targets β of `pts`: the relay coefficient u_n(k,l1) (x = α_n^(1), holders A_k, t = l1) and the
  /// intra-cluster factor (x = α_j^(2), holders A_k^(n), t = l2) are both this product.
  static complex lagrange_factor(const evaluation_points& pts, std::span<const Index> holders, complex x, Index target) {
    const complex bt = pts.targets[static_cast<std::size_t>(target)];
    complex c = 1.0;
    const auto n = static_cast<Index>(pts.nodes.size());
    for (Index i = 0; i < n; ++i)
      if (!std::binary_search(holders.begin(), holders.end(), i))
        c *= (x - pts.nodes[static_cast<std::size_t>(i)]) / (bt - pts.nodes[static_cast<std::size_t>(i)]);
    const auto m = static_cast<Index>(pts.targets.size());
    for (Index u = 0; u < m; ++u)
      if (u != target) c *= (x - pts.targets[static_cast<std::size_t>(u)]) / (bt - pts.targets[static_cast<std::size_t>(u)]);
    return c;
  }

  /// ∏_{j'∉A_k^(n)} (α_j − α_j')/(β_l2 − α_j') · ∏_{u≠l2} (α_j − β_u)/(β_l2 − β_u).
  complex intra_factor(worker_id w, Index k, Index l2) const {
    const auto& pts = m_layer2[static_cast<std::size_t>(w.edge)];
    return lagrange_factor(pts, cluster(w.edge).holders_of(k), pts.nodes[static_cast<std::size_t>(w.worker)], l2);
  }

  /// One term of a worker's message: coefficient × sub-block g_k[l1,l2].
  template <class Unit>
  struct term {
    Unit weight;
    const Unit* source;  // first unit of the sub-block
    Index full;          // whole units available (the rest is zero padding)
    bool half;           // one more real (complex units, d odd): the real part of unit `full`
  };

  template <class ColumnOf>
  void encode_columns(worker_id w, const Eigen::Ref<const matrix<Scalar>>& cols, Eigen::Ref<vector<Scalar>> out,
                      ColumnOf&& column_of) const {
    if (out.size() != worker_message_length(w.edge))
      throw invalid_input("polynomial HGC encode: output has length " + std::to_string(out.size()) +
                              ", C2 = " + std::to_string(worker_message_length(w.edge)),
                          w.worker);
    if (m_w == 1)
      encode_units<Scalar>(w, cols, out, column_of);
    else
      encode_units<std::complex<Scalar>>(w, cols, out, column_of);
  }

  template <class Unit, class ColumnOf>
  void encode_units(worker_id w, const Eigen::Ref<const matrix<Scalar>>& cols, Eigen::Ref<vector<Scalar>> out,
                    ColumnOf&& column_of) const {
    constexpr Index wu = sizeof(Unit) / sizeof(Scalar);
    const auto n = static_cast<std::size_t>(w.edge);
    const Index m2 = m_m2[n], p2 = m_p2[n];
    const auto mine = worker_partitions(w);
    const auto& held = m_cluster_partitions[n];
    std::vector<term<Unit>> terms;
    terms.reserve(mine.size() * static_cast<std::size_t>(m_m1 * m2));
    Index shortest = p2;
    for (std::size_t pos = 0; pos < mine.size(); ++pos) {
      const Index k = mine[pos];
      const Index row = std::lower_bound(held.begin(), held.end(), k) - held.begin();
      const Scalar* column = cols.data() + column_of(k, static_cast<Index>(pos)) * cols.outerStride();
      for (Index l2 = 0; l2 < m2; ++l2) {
        const complex v = intra_factor(w, k, l2);
        for (Index l1 = 0; l1 < m_m1; ++l1) {
          const Index start = wu * (l1 * m_p1 + l2 * p2);  // in reals
          const Index avail = std::max<Index>(0, std::min({wu * p2, wu * (m_p1 - l2 * p2), m_d - start}));
          if (avail == 0) continue;
          const complex c = m_relay_coeff[n](row, l1) * v;
          Unit weight;
          if constexpr (wu == 1)
            weight = static_cast<Unit>(c.real());
          else
            weight = static_cast<Unit>(c);
          terms.push_back({weight, reinterpret_cast<const Unit*>(column + start), avail / wu, avail % wu != 0});
          shortest = std::min(shortest, avail / wu);
        }
      }
    }
    Unit* o = reinterpret_cast<Unit*>(out.data());
    const auto count = static_cast<Index>(terms.size());
    // Units [0, shortest): every term has data there — the streaming kernel.
    Index bad = -1;
    if constexpr (wu == 1)
      bad = detail::weighted_sum<Unit>(
          count, shortest, [&](Index t) { return terms[static_cast<std::size_t>(t)].weight; },
          [&](Index t) { return terms[static_cast<std::size_t>(t)].source; }, o);
    else
      detail::complex_weighted_sum<Scalar>(count, shortest, terms, out.data());
    // Units [shortest, p2): sub-blocks that end early are zero padded.
    for (Index u = shortest; u < p2; ++u) o[u] = Unit(0);
    for (const auto& t : terms) {
      for (Index u = shortest; u < t.full; ++u) o[u] += t.weight * t.source[u];
      if constexpr (wu == 2) {
        if (t.half) o[t.full] += t.weight * Scalar(reinterpret_cast<const Scalar*>(t.source)[2 * t.full]);
      }
    }
    const auto arr = out.array();
    if (bad >= 0 || !((arr - arr).sum() == Scalar(0)))
      throw invalid_input("polynomial HGC encode: worker (" + std::to_string(w.edge) + "," + std::to_string(w.worker) +
                              ")'s message is not finite (NaN/Inf in a partial gradient it holds)",
                          w.worker);
  }

  void check_dimension(Index d) const {
    if (d != m_d)
      throw invalid_input("polynomial HGC: gradients of length " + std::to_string(d) +
                          ", the code is built for d = " + std::to_string(m_d));
  }
  std::size_t check_relay(Index relay) const {
    if (relay < 0 || relay >= relays())
      throw invalid_input("relay id " + std::to_string(relay) + " is outside [0, " + std::to_string(relays()) + ")", relay);
    return static_cast<std::size_t>(relay);
  }
  const worker_id& check_worker(const worker_id& w) const {
    check_relay(w.edge);
    if (w.worker < 0 || w.worker >= workers(w.edge))
      throw invalid_input("worker (" + std::to_string(w.edge) + "," + std::to_string(w.worker) + ") does not exist: cluster " +
                              std::to_string(w.edge) + " has " + std::to_string(workers(w.edge)) + " workers",
                          w.worker);
    return w;
  }
  void check_partition(Index k) const {
    if (k < 0 || k >= m_K)
      throw invalid_input("partition " + std::to_string(k) + " is outside [0, K = " + std::to_string(m_K) + ")");
  }
  static void check_part(Index l, Index count, const char* name) {
    if (l < 0 || l >= count)
      throw invalid_input(std::string(name) + " = " + std::to_string(l) + " is outside [0, " + std::to_string(count) + ")");
  }
  const assignment& cluster(Index relay) const { return m_clusters[check_relay(relay)]; }

  Index m_d = 0, m_K = 0;
  std::vector<assignment> m_clusters;
  Index m_s1 = 0, m_a1 = 0;
  std::vector<Index> m_s2, m_a2;
  point_family m_family;
  robust_options m_options;
  std::vector<std::vector<Index>> m_cluster_partitions;  // Γ_n
  std::vector<std::vector<Index>> m_relays_of;           // A_k
  Index m_r1 = 0, m_m1 = 0;
  std::vector<Index> m_r2, m_m2;
  evaluation_points m_layer1;
  std::vector<evaluation_points> m_layer2;
  Index m_w = 1;                               // reals per unit
  Index m_p1 = 0;                              // units per part (relay message)
  std::vector<Index> m_p2;                     // units per sub-part (worker message), per cluster
  std::vector<matrix<complex>> m_relay_coeff;  // per relay: |Γ_n| × m1, u_n(k, l1)
  std::vector<reed_solomon_code<Scalar>> m_relay_codes;
  std::unique_ptr<reed_solomon_code<Scalar>> m_server_code;
};

}  // namespace gradcode
