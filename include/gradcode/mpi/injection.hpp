// SPDX-License-Identifier: MIT
// Fault injection for MPI runs (issue 8 item 3, issue 13 item 5), parsed from command-line
// clauses: per-node delays (a fixed slow set, or tang2024's runtime model §IV-A eqs. (28)–(31)
// drawn per round), crashes (the node never replies), corruption (adversarial nodes, gholami2025
// §III) and messages of the wrong length — in every round, or only in some (a node that dies after
// round r; a worker that stalls once and comes back with a message of an old round).
//
// Clauses (one per command-line argument):
//   slow:<ms>@<nodes>[:<when>]          sleep <ms> before replying
//   crash@<nodes>[:<when>]              never reply with data (the process stays up so the run can end)
//   corrupt[:<value>]@<nodes>[:<when>]  add <value> (default 1) to every element of each reply
//   length:<k>@<nodes>[:<when>]         reply with k scalars more (k < 0: |k| fewer) than the code's length
//   model:tang2024[-cifar10][:<scale>]  every node sleeps its tang2024 time × scale per round
// <nodes> is a comma list of w<i>.<j> (worker j of edge i), e<i> (edge i); * matches any index.
// <when> (rounds count from 0; without it the fault holds in every round):
//   after=<r>        rounds r+1, r+2, …: the node took part in rounds 0..r, then the fault starts
//   rounds=<a>[-<b>] rounds a..b (b omitted: round a only)
// e.g. crash@w0.1:after=3 (worker (0,1) dies after round 3), slow:800@w1.2:rounds=2 (one stall).
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/hierarchical/hgc.hpp"  // worker_id
#include "gradcode/optimize/presets.hpp"
#include "gradcode/optimize/runtime_model.hpp"

namespace gradcode::mpi {

/// A node pattern from a clause: an edge (worker < 0) or a worker; -1 in a field matches any index.
struct node_pattern {
  bool is_edge = false;
  Index edge = -1;    ///< -1: any edge
  Index worker = -1;  ///< -1: any worker (workers only)
  bool matches_edge(Index e) const noexcept { return is_edge && (edge < 0 || edge == e); }
  bool matches_worker(worker_id w) const noexcept {
    return !is_edge && (edge < 0 || edge == w.edge) && (worker < 0 || worker == w.worker);
  }
};

/// What happens to one node's reply in one round.
struct node_fault {
  double delay_ms = 0;      ///< sleep before replying
  bool crashed = false;     ///< never reply
  double corruption = 0;    ///< added to every element of the reply (0: honest)
  Index length_change = 0;  ///< scalars added to (> 0) or removed from (< 0) the reply
};

/// The faults of a run: a list of clauses, bound to a topology's shape by bind().
class injection_plan {
 public:
  injection_plan() = default;
  /// Parses every clause (see the header comment); `seed` drives the runtime-model draws.
  explicit injection_plan(std::span<const std::string> clauses, std::uint64_t seed = 1) : m_seed(seed) {
    for (const auto& c : clauses) add(c);
  }

  /// Adds one clause. Throws invalid_input naming the clause and what was expected.
  void add(std::string_view clause) {
    const std::string text(clause);
    auto bad = [&](const std::string& why) {
      return invalid_input("fault clause '" + text + "': " + why +
                           " (want slow:<ms>@<nodes>, crash@<nodes>, corrupt[:<value>]@<nodes>, length:<k>@<nodes>, each "
                           "optionally followed by :after=<r> or :rounds=<a>[-<b>], or model:tang2024[-cifar10][:<scale>])");
    };
    if (clause.starts_with("model:")) {
      std::string_view rest = clause.substr(6);
      const auto colon = rest.find(':');
      const std::string_view name = rest.substr(0, colon);
      if (name == "tang2024")
        m_workload = tang2024_workload::mnist;
      else if (name == "tang2024-cifar10")
        m_workload = tang2024_workload::cifar10;
      else
        throw bad("unknown runtime model '" + std::string(name) + "'");
      m_model_scale = colon == std::string_view::npos ? 1.0 : number(rest.substr(colon + 1), bad);
      if (!(m_model_scale > 0)) throw bad("the scale must be > 0");
      m_use_model = true;
      return;
    }
    const auto at = clause.find('@');
    if (at == std::string_view::npos) throw bad("no '@<nodes>'");
    const std::string_view head = clause.substr(0, at);
    std::string_view targets = clause.substr(at + 1);
    rule r;
    if (const auto colon = targets.find(':'); colon != std::string_view::npos) {
      window(targets.substr(colon + 1), r, bad);
      targets = targets.substr(0, colon);
    }
    r.nodes = nodes(targets, bad);
    if (head.starts_with("slow:")) {
      r.fault.delay_ms = number(head.substr(5), bad);
      if (!(r.fault.delay_ms >= 0)) throw bad("the delay must be >= 0 ms");
    } else if (head == "crash") {
      r.fault.crashed = true;
    } else if (head == "corrupt" || head.starts_with("corrupt:")) {
      r.fault.corruption = head == "corrupt" ? 1.0 : number(head.substr(8), bad);
      if (r.fault.corruption == 0) throw bad("a corruption of 0 changes nothing");
    } else if (head.starts_with("length:")) {
      r.fault.length_change = signed_index(head.substr(7), bad);
      if (r.fault.length_change == 0) throw bad("a length change of 0 changes nothing");
      if (r.fault.length_change > (Index{1} << 28) || r.fault.length_change < -(Index{1} << 28))
        throw bad("a length change beyond 2^28 scalars");  // the faulty node allocates its message
    } else {
      throw bad("unknown fault '" + std::string(head) + "'");
    }
    m_rules.push_back(std::move(r));
  }

  /// Checks every named node against the m_i and builds the tiled runtime model: edge i and
  /// worker (i,j) take the types of tang2024 §V-A's edge i mod 4 and worker j mod 10. Throws
  /// invalid_parameters naming a node that does not exist.
  void bind(std::span<const Index> workers_per_edge) {
    m_workers.assign(workers_per_edge.begin(), workers_per_edge.end());
    const auto n = static_cast<Index>(m_workers.size());
    for (const auto& r : m_rules)
      for (const auto& p : r.nodes) {
        if (p.edge >= n)
          throw invalid_parameters("fault injection names edge " + std::to_string(p.edge) +
                                   "; the run has n = " + std::to_string(n) + " edges (0.." + std::to_string(n - 1) + ")");
        if (!p.is_edge && p.worker >= 0) {
          const Index fewest =
              p.edge >= 0 ? m_workers[static_cast<std::size_t>(p.edge)] : *std::min_element(m_workers.begin(), m_workers.end());
          if (p.worker >= fewest)
            throw invalid_parameters("fault injection names worker " + std::to_string(p.worker) + " of edge " +
                                     (p.edge >= 0 ? std::to_string(p.edge) : std::string("*")) + ", which has only " +
                                     std::to_string(fewest) + " workers");
        }
      }
    if (m_use_model) {
      const runtime_model preset = tang2024_setting(m_workload);
      m_model = runtime_model{};
      for (Index i = 0; i < n; ++i) {
        m_model.edges.push_back(preset.edges[static_cast<std::size_t>(i) % preset.edges.size()]);
        const auto& types = preset.workers[static_cast<std::size_t>(i) % preset.workers.size()];
        std::vector<worker_timing> w;
        for (Index j = 0; j < m_workers[static_cast<std::size_t>(i)]; ++j)
          w.push_back(types[static_cast<std::size_t>(j) % types.size()]);
        m_model.workers.push_back(std::move(w));
      }
    }
  }

  /// Worker w's fault in `round`; `load` = partitions it computes on (the model's c·D term).
  node_fault worker_fault(worker_id w, Index round, double load) const {
    node_fault f;
    for (const auto& r : m_rules)
      if (r.holds_in(round))
        for (const auto& p : r.nodes)
          if (p.matches_worker(w)) merge(f, r.fault);
    if (m_use_model) {
      // T_tol^(i,j) (eq. 31), worker arrival at its edge, including the edge's download.
      const auto s = draw(round, load);
      f.delay_ms += m_model_scale * s.worker_arrival[static_cast<std::size_t>(w.edge)][static_cast<std::size_t>(w.worker)];
    }
    return f;
  }
  /// Edge e's fault in `round`.
  node_fault edge_fault(Index edge, Index round) const {
    node_fault f;
    for (const auto& r : m_rules)
      if (r.holds_in(round))
        for (const auto& p : r.nodes)
          if (p.matches_edge(edge)) merge(f, r.fault);
    if (m_use_model) f.delay_ms += m_model_scale * draw(round, 0).edge_upload[static_cast<std::size_t>(edge)];  // T_com,u^i
    return f;
  }

  bool empty() const noexcept { return m_rules.empty() && !m_use_model; }
  std::uint64_t seed() const noexcept { return m_seed; }
  void set_seed(std::uint64_t seed) noexcept { m_seed = seed; }
  /// The bound runtime model (empty unless a model clause was given and bind() ran).
  const runtime_model& model() const noexcept { return m_model; }
  double model_scale() const noexcept { return m_model_scale; }

 private:
  struct rule {
    std::vector<node_pattern> nodes;
    node_fault fault;
    Index first = 0, last = std::numeric_limits<Index>::max();  ///< rounds in which the fault holds
    bool holds_in(Index round) const noexcept { return round >= first && round <= last; }
  };

  static void merge(node_fault& into, const node_fault& f) {
    into.delay_ms += f.delay_ms;
    into.crashed = into.crashed || f.crashed;
    into.corruption += f.corruption;
    into.length_change += f.length_change;
  }

  /// after=<r> or rounds=<a>[-<b>] into r.first, r.last.
  template <class Bad>
  static void window(std::string_view text, rule& r, Bad&& bad) {
    auto round_number = [&](std::string_view t) {
      const Index v = index(t, bad);
      if (v < 0) throw bad("a round must be a number, not '*'");
      return v;
    };
    if (text.starts_with("after=")) {
      const Index after = round_number(text.substr(6));
      if (after == std::numeric_limits<Index>::max()) throw bad("after=" + std::to_string(after) + " leaves no round");
      r.first = after + 1;
    } else if (text.starts_with("rounds=")) {
      const std::string_view range = text.substr(7);
      const auto dash = range.find('-');
      r.first = round_number(range.substr(0, dash));
      r.last = dash == std::string_view::npos ? r.first : round_number(range.substr(dash + 1));
      if (r.last < r.first) throw bad("rounds " + std::to_string(r.first) + "-" + std::to_string(r.last) + " is empty");
    } else {
      throw bad("'" + std::string(text) + "' is neither after=<r> nor rounds=<a>[-<b>]");
    }
  }

  /// Every rank draws the whole system for a round from the same seed, so the draws agree across
  /// ranks without communication; the load only shifts the caller's own entry deterministically.
  iteration_sample draw(Index round, double load) const {
    std::mt19937_64 rng(m_seed * 0x9e3779b97f4a7c15ull + static_cast<std::uint64_t>(round));
    return sample_iteration(m_model, load, rng);
  }

  template <class Bad>
  static double number(std::string_view text, Bad&& bad) {
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v))
      throw bad("'" + std::string(text) + "' is not a number");
    return v;
  }
  template <class Bad>
  static Index index(std::string_view text, Bad&& bad) {
    if (text == "*") return -1;
    long long v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || v < 0)
      throw bad("'" + std::string(text) + "' is not an index or *");
    return static_cast<Index>(v);
  }
  template <class Bad>
  static Index signed_index(std::string_view text, Bad&& bad) {
    long long v = 0;
    const bool plus = text.starts_with("+");
    const auto [end, ec] = std::from_chars(text.data() + (plus ? 1 : 0), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || (plus && v < 0))
      throw bad("'" + std::string(text) + "' is not a whole number");
    return static_cast<Index>(v);
  }
  template <class Bad>
  static std::vector<node_pattern> nodes(std::string_view list, Bad&& bad) {
    std::vector<node_pattern> out;
    for (std::size_t at = 0; at <= list.size();) {
      const auto comma = std::min(list.find(',', at), list.size());
      const std::string_view item = list.substr(at, comma - at);
      node_pattern p;
      if (item.starts_with("e")) {
        p.is_edge = true;
        p.edge = index(item.substr(1), bad);
      } else if (item.starts_with("w")) {
        const auto dot = item.find('.');
        if (dot == std::string_view::npos) throw bad("worker '" + std::string(item) + "' needs w<edge>.<worker>");
        p.edge = index(item.substr(1, dot - 1), bad);
        p.worker = index(item.substr(dot + 1), bad);
      } else {
        throw bad("node '" + std::string(item) + "' is neither e<i> nor w<i>.<j>");
      }
      out.push_back(p);
      at = comma + 1;
    }
    return out;
  }

  std::vector<rule> m_rules;
  bool m_use_model = false;
  tang2024_workload m_workload = tang2024_workload::mnist;
  double m_model_scale = 1;
  std::uint64_t m_seed = 1;
  std::vector<Index> m_workers;
  runtime_model m_model;
};

}  // namespace gradcode::mpi
