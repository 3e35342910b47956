// SPDX-License-Identifier: MIT
// Which evaluation point each node gets (gholami2025 §V-A leaves the assignment of the N
// distinct values α_i to nodes free): a local search over node ↔ point swaps that keeps the
// encoding coefficients of a polynomial code with supports A_k small, and the measure it uses.
//
// The coefficient of data item k at node n for target l (gholami2025 after eq. 13; eq. 15 is the
// same at the worker layer) is
//     u(n,k,l) = ∏_{i∉A_k} (α_n − α_i)/(β_l − α_i) · ∏_{u≠l} (α_n − β_u)/(β_l − β_u),
// unique once the points are fixed (for the least replicated k). Rounding in a message is
// ε·max|u| relative to the data, so max|u| (the "coefficient growth") drives the decode error.
// On the unit circle it stays below ~10 when every A_k is spread evenly around the circle (what
// the cyclic-consecutive placement of place_partitions produces), is worst for arcs of
// consecutive nodes (cyclic-repetition supports: 1e7 at N = 32, 1e32 at N = 128, r = N/2) and
// grows like e^{c√N} for random supports (3.5e4 at N = 32, r = 12). A stride order
// π(i) = s·i mod N spreads arcs (growth ≤ 80 for every N ≤ 128 tested), and swaps bring random
// supports to ~2e2 (tests/robust/point_order_test.cpp).
//
// Algorithm: log|u| = T(p) − Σ_{q∈P_k∖p} G(p,q) − T_β(l) + Σ_{q∈P_k} B(l,q) + C(p,l) with
// P_k = π(A_k) the points of A_k, G = log|α_p − α_q|, T(p) = Σ_{q≠p} G(p,q), B = log|β_l − α_q|,
// T_β(l) = Σ_q B(l,q), C(p,l) = log|L_l(α_p)|; M_k = max_{p∈P_k, l} log|u|. A swap of nodes a, b
// changes M_k only for supports holding exactly one of them. First-improvement sweeps over all
// pairs minimize F = log Σ_k e^{M_k} (a smooth max, so plateaus of the max do not stall it).
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <numeric>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/robust/evaluation_points.hpp"

namespace gradcode {

namespace detail {

struct point_order_tables {
  Index n = 0, m = 0;
  std::vector<double> g, t, b, tb, c;  // G (n×n), T (n), B (m×n), T_β (m), C (n×m)

  explicit point_order_tables(const evaluation_points& pts)
      : n(static_cast<Index>(pts.nodes.size())), m(static_cast<Index>(pts.targets.size())) {
    const auto& a = pts.nodes;
    const auto& be = pts.targets;
    g.assign(static_cast<std::size_t>(n * n), 0.0);
    t.assign(static_cast<std::size_t>(n), 0.0);
    b.assign(static_cast<std::size_t>(m * n), 0.0);
    tb.assign(static_cast<std::size_t>(m), 0.0);
    c.assign(static_cast<std::size_t>(n * m), 0.0);
    for (Index p = 0; p < n; ++p)
      for (Index q = 0; q < n; ++q)
        if (p != q) {
          const double v = std::log(std::abs(a[static_cast<std::size_t>(p)] - a[static_cast<std::size_t>(q)]));
          g[static_cast<std::size_t>(p * n + q)] = v;
          t[static_cast<std::size_t>(p)] += v;
        }
    for (Index l = 0; l < m; ++l)
      for (Index q = 0; q < n; ++q) {
        const double v = std::log(std::abs(be[static_cast<std::size_t>(l)] - a[static_cast<std::size_t>(q)]));
        b[static_cast<std::size_t>(l * n + q)] = v;
        tb[static_cast<std::size_t>(l)] += v;
      }
    for (Index p = 0; p < n; ++p)
      for (Index l = 0; l < m; ++l) {
        double v = 0;
        for (Index u = 0; u < m; ++u)
          if (u != l)
            v += std::log(std::abs(a[static_cast<std::size_t>(p)] - be[static_cast<std::size_t>(u)])) -
                 std::log(std::abs(be[static_cast<std::size_t>(l)] - be[static_cast<std::size_t>(u)]));
        c[static_cast<std::size_t>(p * m + l)] = v;
      }
  }

  /// M_k for the point set `points` (= π(A_k)); O(|P|² + |P|·m).
  double support_max(std::span<const Index> points) const {
    thread_local std::vector<double> sb;
    sb.assign(static_cast<std::size_t>(m), 0.0);
    for (Index l = 0; l < m; ++l) {
      double v = -tb[static_cast<std::size_t>(l)];
      for (Index q : points) v += b[static_cast<std::size_t>(l * n + q)];
      sb[static_cast<std::size_t>(l)] = v;
    }
    double best = -HUGE_VAL;
    for (Index p : points) {
      double v = t[static_cast<std::size_t>(p)];
      for (Index q : points)
        if (q != p) v -= g[static_cast<std::size_t>(p * n + q)];
      double bl = -HUGE_VAL;
      for (Index l = 0; l < m; ++l) bl = std::max(bl, sb[static_cast<std::size_t>(l)] + c[static_cast<std::size_t>(p * m + l)]);
      best = std::max(best, v + bl);
    }
    return best;
  }
};

inline double log_sum_exp(const std::vector<double>& v) {
  const double top = *std::max_element(v.begin(), v.end());
  double s = 0;
  for (double x : v) s += std::exp(x - top);
  return top + std::log(s);
}

/// Throws invalid_input unless `pts` has 1..max_layer_nodes finite, distinct nodes and finite,
/// distinct targets apart from them, and every support lists nodes in [0, N) at most once.
inline void check_point_order_input(const char* who, const evaluation_points& pts,
                                    const std::vector<std::vector<Index>>& supports) {
  const auto n = static_cast<Index>(pts.nodes.size());
  const std::string w(who);
  if (n < 1 || n > max_layer_nodes || pts.targets.empty() || static_cast<Index>(pts.targets.size()) > max_layer_nodes)
    throw invalid_input(w + ": " + std::to_string(n) + " nodes and " + std::to_string(pts.targets.size()) +
                        " targets; need 1 to " + std::to_string(max_layer_nodes) + " of each");
  std::vector<std::pair<double, double>> all;
  for (const auto* v : {&pts.nodes, &pts.targets})
    for (const auto& x : *v) {
      if (!std::isfinite(x.real()) || !std::isfinite(x.imag())) throw invalid_input(w + ": an evaluation point is not finite");
      all.emplace_back(x.real(), x.imag());
    }
  std::sort(all.begin(), all.end());
  if (std::adjacent_find(all.begin(), all.end()) != all.end())
    throw invalid_input(w + ": two evaluation points coincide; the N + m points must be distinct");
  std::vector<char> seen(static_cast<std::size_t>(n), 0);
  for (std::size_t k = 0; k < supports.size(); ++k) {
    for (Index node : supports[k]) {
      if (node < 0 || node >= n)
        throw invalid_input(w + ": support " + std::to_string(k) + " lists node " + std::to_string(node) + ", outside [0, " +
                                std::to_string(n) + ")",
                            node);
      if (seen[static_cast<std::size_t>(node)])
        throw invalid_input(w + ": support " + std::to_string(k) + " lists node " + std::to_string(node) + " twice", node);
      seen[static_cast<std::size_t>(node)] = 1;
    }
    for (Index node : supports[k]) seen[static_cast<std::size_t>(node)] = 0;
  }
}

/// Distinct, non-trivial supports (a support holding every node has M_k independent of π).
inline std::vector<std::vector<Index>> distinct_supports(const std::vector<std::vector<Index>>& supports, Index nodes) {
  std::set<std::vector<Index>> seen;
  for (auto s : supports) {
    std::sort(s.begin(), s.end());
    if (!s.empty() && static_cast<Index>(s.size()) < nodes) seen.insert(std::move(s));
  }
  return {seen.begin(), seen.end()};
}

}  // namespace detail

/// max_{k, l, n∈A_k} |u(n,k,l)| with node n at point order[n] (identity when order is empty):
/// the coefficient growth of a layer with supports A_k (node lists) and points `pts`. Throws
/// invalid_input on points that are not finite and distinct (or more than max_layer_nodes), a
/// support naming a node outside [0, N) or twice, or an order that is not a permutation of 0..N−1.
inline double coefficient_growth(const evaluation_points& pts, const std::vector<std::vector<Index>>& supports,
                                 std::span<const Index> order = {}) {
  detail::check_point_order_input("coefficient_growth", pts, supports);
  if (!order.empty()) {
    const auto n = static_cast<Index>(pts.nodes.size());
    if (static_cast<Index>(order.size()) != n)
      throw invalid_input("coefficient_growth: an order of " + std::to_string(order.size()) +
                          " entries for N = " + std::to_string(n) + " nodes");
    std::vector<char> used(static_cast<std::size_t>(n), 0);
    for (std::size_t i = 0; i < order.size(); ++i) {
      const Index p = order[i];
      if (p < 0 || p >= n || used[static_cast<std::size_t>(p)])
        throw invalid_input("coefficient_growth: order[" + std::to_string(i) + "] = " + std::to_string(p) +
                                " (need a permutation of 0.." + std::to_string(n - 1) + ")",
                            static_cast<long long>(i));
      used[static_cast<std::size_t>(p)] = 1;
    }
  }
  const detail::point_order_tables tab(pts);
  double worst = -HUGE_VAL;
  std::vector<Index> p;
  for (const auto& s : supports) {
    if (s.empty()) continue;
    p.clear();
    for (Index node : s) p.push_back(order.empty() ? node : order[static_cast<std::size_t>(node)]);
    worst = std::max(worst, tab.support_max(p));
  }
  return worst == -HUGE_VAL ? 0.0 : std::exp(worst);
}

/// A node → point order (a permutation of 0..N−1) that keeps coefficient_growth small for the
/// supports A_k: the identity when its growth is already ≤ `good_enough`, else the best stride
/// order π(i) = s·i mod N, improved (if still above `good_enough`) by at most `max_sweeps`
/// first-improvement sweeps of pairwise swaps. A trial swap costs
/// O(|A_k|·m) per support it touches (running sums of G and B per support): 6 ms for N = 32
/// with 64 random supports of 12 nodes (tests/robust/point_order_test.cpp); a whole
/// N1 = N2 = 32 code over 1024 scattered partitions orders its 33 layers in ~3 s. Throws
/// invalid_input on the inputs coefficient_growth rejects, or `good_enough` not > 0.
inline std::vector<Index> order_points(const evaluation_points& pts, const std::vector<std::vector<Index>>& supports,
                                       double good_enough = 1e2, int max_sweeps = 4) {
  detail::check_point_order_input("order_points", pts, supports);
  if (!(good_enough > 0))
    throw invalid_input("order_points: good_enough = " + detail::format_g(good_enough) + "; need > 0 (1e2 is the default)");
  const auto n = static_cast<Index>(pts.nodes.size());
  const auto m = static_cast<Index>(pts.targets.size());
  std::vector<Index> pi(static_cast<std::size_t>(n));
  std::iota(pi.begin(), pi.end(), Index{0});
  const auto sets = detail::distinct_supports(supports, n);
  if (sets.empty() || n < 3) return pi;
  const detail::point_order_tables tab(pts);
  auto G = [&](Index p, Index q) { return tab.g[static_cast<std::size_t>(p * n + q)]; };
  auto B = [&](Index l, Index q) { return tab.b[static_cast<std::size_t>(l * n + q)]; };
  auto C = [&](Index p, Index l) { return tab.c[static_cast<std::size_t>(p * m + l)]; };
  // Per support: the point of each member, Σ_{other members} G(p, ·) per member, Σ_members B(l, ·).
  struct state {
    std::vector<Index> point;
    std::vector<double> sg, sb;
    double mk = 0;
  };
  // Starting point: the identity or the best stride order π(i) = s·i mod N (gcd(s, N) = 1),
  // which turns arcs of consecutive nodes into evenly spread point sets.
  auto growth_of = [&](const std::vector<Index>& order) {
    double worst = -HUGE_VAL;
    std::vector<Index> p;
    for (const auto& set : sets) {
      p.clear();
      for (Index node : set) p.push_back(order[static_cast<std::size_t>(node)]);
      worst = std::max(worst, tab.support_max(p));
    }
    return worst;
  };
  double start = growth_of(pi);
  if (start <= std::log(good_enough)) return pi;
  for (Index stride = 2; stride < n; ++stride) {
    if (std::gcd(stride, n) != 1) continue;
    std::vector<Index> order(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = (stride * i) % n;
    const double g = growth_of(order);
    if (g < start) start = g, pi = std::move(order);
  }
  if (start <= std::log(good_enough)) return pi;
  std::vector<state> st(sets.size());
  std::vector<std::vector<std::pair<Index, Index>>> of_node(static_cast<std::size_t>(n));  // (support, member index)
  auto support_max = [&](const state& s) {
    double best = -HUGE_VAL;
    for (std::size_t t = 0; t < s.point.size(); ++t) {
      double bl = -HUGE_VAL;
      for (Index l = 0; l < m; ++l)
        bl = std::max(bl, s.sb[static_cast<std::size_t>(l)] - tab.tb[static_cast<std::size_t>(l)] + C(s.point[t], l));
      best = std::max(best, tab.t[static_cast<std::size_t>(s.point[t])] - s.sg[t] + bl);
    }
    return best;
  };
  double top = -HUGE_VAL;
  for (std::size_t k = 0; k < sets.size(); ++k) {
    auto& s = st[k];
    for (std::size_t t = 0; t < sets[k].size(); ++t) {
      s.point.push_back(pi[static_cast<std::size_t>(sets[k][t])]);
      of_node[static_cast<std::size_t>(sets[k][t])].emplace_back(static_cast<Index>(k), static_cast<Index>(t));
    }
    s.sg.assign(s.point.size(), 0.0);
    for (std::size_t t = 0; t < s.point.size(); ++t)
      for (std::size_t u = 0; u < s.point.size(); ++u)
        if (u != t) s.sg[t] += G(s.point[t], s.point[u]);
    s.sb.assign(static_cast<std::size_t>(m), 0.0);
    for (Index l = 0; l < m; ++l)
      for (Index p : s.point) s.sb[static_cast<std::size_t>(l)] += B(l, p);
    s.mk = support_max(s);
    top = std::max(top, s.mk);
  }
  if (top <= std::log(good_enough)) return pi;
  // F = top + log Σ_k e^{M_k − top}, kept as the running sum.
  double sum = 0;
  for (const auto& s : st) sum += std::exp(s.mk - top);
  // M_k after replacing the point of member `idx` by `neu` (apply = also store the new sums).
  state scratch;
  auto replaced = [&](state& s, Index idx, Index neu, bool apply) {
    const Index old = s.point[static_cast<std::size_t>(idx)];
    state& out = apply ? s : scratch;
    if (!apply) out = s;
    for (Index l = 0; l < m; ++l) out.sb[static_cast<std::size_t>(l)] += B(l, neu) - B(l, old);
    double own = 0;
    for (std::size_t t = 0; t < out.point.size(); ++t) {
      if (static_cast<Index>(t) == idx) continue;
      out.sg[t] += G(out.point[t], neu) - G(out.point[t], old);
      own += G(neu, out.point[t]);
    }
    out.sg[static_cast<std::size_t>(idx)] = own;
    out.point[static_cast<std::size_t>(idx)] = neu;
    out.mk = support_max(out);
    return out.mk;
  };
  std::vector<std::pair<Index, Index>> changes;                 // (support, member index) of a or b
  std::vector<std::pair<std::pair<Index, Index>, Index>> both;  // ((support, member a), member b)
  for (int sweep = 0; sweep < max_sweeps; ++sweep) {
    bool improved = false;
    for (Index a = 0; a < n; ++a)
      for (Index b = a + 1; b < n; ++b) {
        const Index pa = pi[static_cast<std::size_t>(a)], pb = pi[static_cast<std::size_t>(b)];
        // Supports holding exactly one of a, b (both lists are sorted by support).
        changes.clear();
        both.clear();
        const auto& la = of_node[static_cast<std::size_t>(a)];
        const auto& lb = of_node[static_cast<std::size_t>(b)];
        std::size_t i = 0, j = 0;
        while (i < la.size() || j < lb.size()) {
          if (j == lb.size() || (i < la.size() && la[i].first < lb[j].first))
            changes.push_back(la[i++]);
          else if (i == la.size() || lb[j].first < la[i].first)
            changes.push_back(lb[j++]);
          else
            both.push_back({la[i++], lb[j++].second});  // holds both: its point set does not change
        }
        if (changes.empty()) continue;
        double trial = sum;
        for (const auto& [k, idx] : changes) {
          auto& s = st[static_cast<std::size_t>(k)];
          const Index neu = s.point[static_cast<std::size_t>(idx)] == pa ? pb : pa;
          const double v = replaced(s, idx, neu, false);
          trial += std::exp(v - top) - std::exp(s.mk - top);
        }
        if (trial < sum * (1 - 1e-12)) {
          for (const auto& [k, idx] : changes) {
            auto& s = st[static_cast<std::size_t>(k)];
            replaced(s, idx, s.point[static_cast<std::size_t>(idx)] == pa ? pb : pa, true);
          }
          for (const auto& [ka, ib] : both) {  // members a and b trade points (and their sums)
            auto& s = st[static_cast<std::size_t>(ka.first)];
            std::swap(s.point[static_cast<std::size_t>(ka.second)], s.point[static_cast<std::size_t>(ib)]);
            std::swap(s.sg[static_cast<std::size_t>(ka.second)], s.sg[static_cast<std::size_t>(ib)]);
          }
          std::swap(pi[static_cast<std::size_t>(a)], pi[static_cast<std::size_t>(b)]);
          sum = trial;
          improved = true;
        }
      }
    if (!improved) break;
  }
  return pi;
}

}  // namespace gradcode
