// SPDX-License-Identifier: MIT
// The master's side of the tree_runner protocol (tree_runner.hpp): the start-up handshake that
// checks every rank's code fingerprint, a round (broadcast, collect the first master_wait() edge
// results, decode the gradient) and the stop handshake. Used by tree_runner; not a public API.
#pragma once

#include <mpi.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gradcode/core/codec.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/mpi/errors.hpp"
#include "gradcode/mpi/rank_context.hpp"
#include "gradcode/mpi/round_types.hpp"
#include "gradcode/mpi/topology.hpp"
#include "gradcode/mpi/transport.hpp"
#include "gradcode/mpi/wire.hpp"

namespace gradcode::mpi::detail {

/// The master's state across rounds (round counter, handshake results, a found code mismatch)
/// over the rank's shared context, which must outlive it.
template <gradcode::hierarchical_codec Codec>
class master_role {
 public:
  using scalar_type = typename Codec::scalar_type;

  explicit master_role(rank_context<Codec>& ctx) : m_ctx(ctx) {
    m_edge_verified.assign(static_cast<std::size_t>(ctx.layout->edges()), 0);
    for (Index i = 0; i < ctx.layout->edges(); ++i)
      m_worker_verified.emplace_back(static_cast<std::size_t>(ctx.layout->workers(i)), 0);
  }
  master_role(const master_role&) = delete;
  master_role& operator=(const master_role&) = delete;

  /// Parent ranks (edges and workers) whose hello matched the master's fingerprint so far.
  std::vector<int> verified_ranks() const {
    std::vector<int> out;
    for (Index i = 0; i < m_ctx.layout->edges(); ++i) {
      if (m_edge_verified[static_cast<std::size_t>(i)]) out.push_back(m_ctx.layout->rank_of_edge(i));
      for (Index j = 0; j < m_ctx.layout->workers(i); ++j)
        if (m_worker_verified[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)])
          out.push_back(m_ctx.layout->rank_of({i, j}));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  /// One round (tree_runner::round once the role is checked; throws as it documents).
  round_report round(std::span<const scalar_type> broadcast, Eigen::Ref<vector<scalar_type>> gradient) {
    if (m_stopped) throw transport_error("master: round() after stop()");
    if (m_mismatch) throw *m_mismatch;
    if (gradient.size() != m_ctx.d)
      throw invalid_input("master: gradient has length " + std::to_string(gradient.size()) + ", d = " + std::to_string(m_ctx.d));
    if (broadcast.size_bytes() > m_ctx.options.max_broadcast_bytes)
      throw invalid_input("master: a broadcast of " + std::to_string(broadcast.size_bytes()) +
                          " bytes exceeds max_broadcast_bytes = " + std::to_string(m_ctx.options.max_broadcast_bytes));
    const Index n = m_ctx.code->edges(), needed = m_ctx.code->master_wait(), C1 = m_ctx.code->edge_message_length(m_ctx.d);
    MPI_Comm comm = m_ctx.layout->upper();
    round_report rep;
    rep.edges.resize(static_cast<std::size_t>(n));
    if (!m_greeted) handshake(rep);

    const auto start = clock::now();
    const auto deadline = start + m_ctx.options.master_wait;
    master_round st{m_round++, matrix<scalar_type>(C1, n), {}, 0};
    rep.round = st.r;
    wire::message down;
    down.kind = wire::message_kind::round_start;
    down.scalar_bytes = wire::scalar_code<scalar_type>();
    down.round = st.r;
    down.payload = wire::payload_of(broadcast);
    const auto bytes = std::make_shared<const std::vector<std::byte>>(wire::serialise(down));
    for (Index i = 0; i < n; ++i) m_ctx.out.send(bytes, m_ctx.layout->rank_of_edge(i), m_ctx.tags.tag(st.r), comm);

    bool done = false;
    while (true) {
      bool any = false;
      incoming in;
      while (m_ctx.next(comm, MPI_ANY_SOURCE, in)) {
        any = true;
        on_message(in, &st, rep);
      }
      if (static_cast<Index>(st.arrived.size()) >= needed) {
        done = true;
        break;
      }
      if (st.failed > n - needed || clock::now() >= deadline) break;
      m_ctx.out.progress();
      if (!any) std::this_thread::sleep_for(m_ctx.options.poll_interval);
    }
    if (!done)
      throw not_decodable(master_failure(rep, st.arrived, needed, elapsed_ms(start)), st.arrived.size(),
                          static_cast<std::size_t>(needed));

    matrix<scalar_type> messages(C1, static_cast<Index>(st.arrived.size()));
    for (std::size_t t = 0; t < st.arrived.size(); ++t) messages.col(static_cast<Index>(t)) = st.results.col(st.arrived[t]);
    std::vector<decode_report> edge_reports(st.arrived.size());  // the amplifications the edges sent: both layers checked
    for (std::size_t t = 0; t < st.arrived.size(); ++t)
      edge_reports[t].amplification = rep.edges[static_cast<std::size_t>(st.arrived[t])].amplification;
    rep.corrupted_edges = m_ctx.code->master_decode(st.arrived, messages, edge_reports, gradient).corrupted;
    for (Index i : st.arrived) rep.edges[static_cast<std::size_t>(i)].used = true;
    rep.edges_used = std::move(st.arrived);
    rep.wall_ms = elapsed_ms(start);
    return rep;
  }

  /// Ends the run: stop to every edge, then every edge's goodbye (bounded by shutdown_wait).
  void stop() {
    if (m_stopped) return;
    m_stopped = true;
    MPI_Comm comm = m_ctx.layout->upper();
    const auto bytes = m_ctx.control(wire::message_kind::stop);
    for (Index i = 0; i < m_ctx.code->edges(); ++i) m_ctx.out.send(bytes, m_ctx.layout->rank_of_edge(i), control_tag, comm);
    std::vector<char> bye(static_cast<std::size_t>(m_ctx.code->edges()), 0);
    m_ctx.await_goodbyes(comm, bye, m_ctx.result_limit, "master", "edge");
  }

 private:
  /// The master's state in round r.
  struct master_round {
    Index r = 0;
    matrix<scalar_type> results;  // C1 × n, column i = edge i's result
    std::vector<Index> arrived;   // edges whose result arrived intact, arrival order
    Index failed = 0;             // edges that reported a failure or sent a malformed message
  };

  static std::string hex(std::uint64_t v) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(v));
    return text;
  }

  /// Start-up: hello to every edge, then every edge's and worker's answer (bounded).
  void handshake(round_report& rep) {
    m_greeted = true;
    MPI_Comm comm = m_ctx.layout->upper();
    const auto hello = m_ctx.control(wire::message_kind::hello, m_ctx.code_id);
    for (Index i = 0; i < m_ctx.code->edges(); ++i) m_ctx.out.send(hello, m_ctx.layout->rank_of_edge(i), control_tag, comm);
    const auto expected = static_cast<std::size_t>(m_ctx.code->edges() + m_ctx.layout->total_workers());
    const auto deadline = clock::now() + m_ctx.options.handshake_wait;
    while (verified_ranks().size() < expected && clock::now() < deadline) {
      bool any = false;
      incoming in;
      while (m_ctx.next(comm, MPI_ANY_SOURCE, in)) {
        any = true;
        on_message(in, nullptr, rep);
      }
      m_ctx.out.progress();
      if (!any) std::this_thread::sleep_for(m_ctx.options.poll_interval);
    }
  }

  /// One message at the master, during round `st` (nullptr: the handshake).
  void on_message(const incoming& in, master_round* st, round_report& rep) {
    const Index i = in.env.source - 1;  // upper rank i + 1 = edge i
    if (i < 0 || i >= m_ctx.code->edges()) {
      ++rep.malformed_messages;
      return;
    }
    auto& es = rep.edges[static_cast<std::size_t>(i)];
    auto reject = [&](const std::string& why) {
      ++rep.malformed_messages;
      if (st && !es.replied) {  // this edge cannot deliver this round
        es.replied = true;
        es.failure = "malformed message: " + why;
        ++st->failed;
      }
    };
    std::string why;
    const auto m = m_ctx.parse(in, m_ctx.result_limit, why);
    if (!m) return reject(why);
    if (m->kind == wire::message_kind::hello) return verify(i, *m, reject);
    if (m->kind != wire::message_kind::edge_result) return reject(std::string("an unexpected ") + wire::detail::name(m->kind));
    if (!m_edge_verified[static_cast<std::size_t>(i)]) return reject("a result before a matching hello");
    if (!st || m->round < st->r) {
      ++rep.late_messages;
      return;
    }
    if (m->round > st->r) return reject("a result of round " + std::to_string(m->round) + " in round " + std::to_string(st->r));
    if (es.replied) return reject("a second result in round " + std::to_string(st->r));
    try {
      wire::validate_edge_result(*m, i, m_ctx.code->workers(i));
    } catch (const invalid_input& e) {
      return reject(gradcode::detail::untagged(e));
    }
    es.replied = true;
    es.decoded_after_ms = static_cast<double>(m->elapsed_us) / 1000.0;
    es.late_messages = m->late;
    es.rejected_workers.assign(m->rejected.begin(), m->rejected.end());
    es.message_bytes = static_cast<long long>(m->payload.size());
    if (m->status != wire::edge_status::ok) {
      es.failure = describe_failure(i, *m);
      ++st->failed;
      return;
    }
    es.workers_used.assign(m->used.begin(), m->used.end());
    es.worker_message_bytes.assign(m->used_bytes.begin(), m->used_bytes.end());
    es.corrupted_workers.assign(m->corrupted.begin(), m->corrupted.end());
    es.amplification = m->amplification;
    try {
      const Index C1 = m_ctx.code->edge_message_length(m_ctx.d);
      wire::read_payload<scalar_type>(*m, std::span<scalar_type>(st->results.col(i).data(), static_cast<std::size_t>(C1)), C1,
                                      "edge " + std::to_string(i));
    } catch (const invalid_input& e) {
      es.failure = "malformed result: " + gradcode::detail::untagged(e);
      ++st->failed;
      return;
    }
    st->arrived.push_back(i);
  }

  /// A hello from edge i (node -1) or forwarded for its worker `node`. Throws code_mismatch.
  template <class Reject>
  void verify(Index i, const wire::message& m, Reject&& reject) {
    if (m.node >= m_ctx.code->workers(i))
      return reject("a hello for worker " + std::to_string(m.node) + " of edge " + std::to_string(i));
    const bool own = m.node < 0;
    const int rank = own ? m_ctx.layout->rank_of_edge(i) : m_ctx.layout->rank_of({i, static_cast<Index>(m.node)});
    if (m.fingerprint != m_ctx.code_id) {
      const std::string role_name =
          own ? "edge " + std::to_string(i) : "worker (" + std::to_string(i) + "," + std::to_string(m.node) + ")";
      m_mismatch.emplace("mpi: rank " + std::to_string(rank) + " (" + role_name +
                             ") built a different code than the master: fingerprint " + hex(m.fingerprint) + ", the master's " +
                             hex(m_ctx.code_id) + " (every rank must build the same code: parameters, scalar type and d)",
                         rank, m_ctx.code_id, m.fingerprint);
      throw *m_mismatch;
    }
    if (own)
      m_edge_verified[static_cast<std::size_t>(i)] = 1;
    else
      m_worker_verified[static_cast<std::size_t>(i)][static_cast<std::size_t>(m.node)] = 1;
  }

  std::string describe_failure(Index edge, const wire::message& m) const {
    const std::string counts =
        std::to_string(m.received) + " of " + std::to_string(m_ctx.code->workers(edge)) + " workers replied";
    std::string s;
    switch (m.status) {
      case wire::edge_status::timed_out:
        s = counts + " within " + std::to_string(m_ctx.options.edge_wait.count()) + " ms, " + std::to_string(m.needed) +
            " needed";
        break;
      case wire::edge_status::undecodable:
        s = "could not decode from " + counts + " (not_decodable)";
        break;
      case wire::edge_status::corrupted:
        s = "corruption beyond its correction budget among " + counts + " (corrupted_result)";
        break;
      default:
        s = "a worker message was malformed (" + counts + ")";
        break;
    }
    if (!m.rejected.empty()) {
      s += "; dropped malformed messages of worker";
      for (std::size_t t = 0; t < m.rejected.size(); ++t) s += (t ? ", " : " ") + std::to_string(m.rejected[t]);
    }
    return s;
  }

  std::string master_failure(const round_report& rep, const std::vector<Index>& arrived, Index needed, double ms) const {
    std::string s = "master: round " + std::to_string(rep.round) + ": " + std::to_string(arrived.size()) + " of " +
                    std::to_string(m_ctx.code->edges()) + " edges delivered within " +
                    std::to_string(static_cast<long long>(ms)) + " ms, " + std::to_string(needed) + " needed (";
    std::vector<Index> silent;
    bool first = true;
    for (Index i = 0; i < m_ctx.code->edges(); ++i) {
      const auto& es = rep.edges[static_cast<std::size_t>(i)];
      if (!es.failure.empty()) {
        s += (first ? "" : "; ") + std::string("edge ") + std::to_string(i) + ": " + es.failure;
        first = false;
      } else if (!es.replied) {
        silent.push_back(i);
      }
    }
    if (!silent.empty()) {
      s += (first ? "" : "; ") + std::string("no reply from edge");
      for (std::size_t t = 0; t < silent.size(); ++t) s += (t ? ", " : " ") + std::to_string(silent[t]);
    }
    return s + ")";
  }

  rank_context<Codec>& m_ctx;
  Index m_round = 0;
  bool m_stopped = false;
  bool m_greeted = false;                            // the handshake ran
  std::vector<char> m_edge_verified;                 // edge i's hello matched
  std::vector<std::vector<char>> m_worker_verified;  // worker (i,j)'s hello matched
  std::optional<code_mismatch> m_mismatch;           // once found, every round() throws it
};

}  // namespace gradcode::mpi::detail
