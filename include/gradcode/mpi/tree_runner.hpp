// SPDX-License-Identifier: MIT
// One decoding round of a three-level code over MPI (issue 8, items 1–2), for any codec that
// fits `hierarchical_codec` (hgc_runner.hpp: tang2024; polynomial_runner.hpp: gholami2025):
// the master sends the round's broadcast down the tree, workers compute and encode, each edge
// decodes as soon as its first `edge_wait` worker messages arrived, the master as soon as its first
// `master_wait` edge results arrived. Late replies carry an older round tag and are drained.
//
// Algorithm (per round r, tags from transport.hpp):
//   master  post Irecv(data, info) per edge for r → Isend broadcast → MPI_Testsome until f edges
//           reported ok (decode), too many failed, or master_wait passed (not_decodable with counts)
//           → cancel the rest.
//   edge    on a downlink of round r: abandon round < r, post Irecv per worker, forward; Testsome
//           until edge_wait workers arrived (decode, send info + data) or edge_wait time passed
//           (send a failure info with the counts); between polls drain messages of older rounds.
//   worker  take the newest downlink (skip superseded rounds), compute, encode, apply its
//           injected fault, Isend.
//   stop    master → edges → workers; each rank answers with a goodbye after its last data, so
//           every pending send is matched before anyone returns (bounded by shutdown_wait).
#pragma once

#include <mpi.h>

#include <algorithm>
#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/hierarchical/hgc.hpp"  // worker_id
#include "gradcode/mpi/errors.hpp"
#include "gradcode/mpi/injection.hpp"
#include "gradcode/mpi/topology.hpp"
#include "gradcode/mpi/transport.hpp"

namespace gradcode::mpi {

/// What a codec must offer to run over MPI. Decoders return the node ids they located as
/// corrupted and excluded (empty for codes without adversary location).
template <class C>
concept hierarchical_codec = requires(const C& c, worker_id w, Index i, std::span<const Index> ids,
                                      const Eigen::Ref<const matrix<typename C::scalar_type>>& in,
                                      Eigen::Ref<vector<typename C::scalar_type>> out) {
  { c.edges() } -> std::convertible_to<Index>;
  { c.workers(i) } -> std::convertible_to<Index>;
  { c.dimension() } -> std::convertible_to<Index>;               // d
  { c.worker_message_length(i) } -> std::convertible_to<Index>;  // scalars per worker message
  { c.edge_message_length() } -> std::convertible_to<Index>;     // scalars per edge message
  { c.edge_wait(i) } -> std::convertible_to<Index>;              // worker messages an edge waits for
  { c.master_wait() } -> std::convertible_to<Index>;             // edge results the master waits for
  { c.worker_partitions(w) } -> std::convertible_to<std::vector<Index>>;
  c.encode_held(w, in, out);
  { c.edge_decode(i, ids, in, out) } -> std::convertible_to<std::vector<Index>>;
  { c.master_decode(ids, in, out) } -> std::convertible_to<std::vector<Index>>;
};

/// A codec whose two decodes compound rounding (tang2024 HGC): each edge reports the
/// amplification of its decode and the master checks the end-to-end estimate with the largest.
template <class C>
concept compounding_codec = hierarchical_codec<C> && requires(const C& c, Index i, std::span<const Index> ids,
                                                              const Eigen::Ref<const matrix<typename C::scalar_type>>& in,
                                                              Eigen::Ref<vector<typename C::scalar_type>> out, double a) {
  { c.edge_amplification(i, ids) } -> std::convertible_to<double>;
  { c.master_decode(ids, in, out, a) } -> std::convertible_to<std::vector<Index>>;
};

/// What a worker is asked to compute in a round.
template <class Scalar>
struct worker_task {
  Index round = 0;
  worker_id worker{};
  std::span<const Scalar> broadcast{};  ///< the master's payload of this round (e.g. the model)
  std::span<const Index> partitions{};  ///< global ids of the partitions this worker holds, ascending
};

/// What the master learnt about one edge in a round.
struct edge_summary {
  bool replied = false;                        ///< a result or a failure notice arrived in time
  bool used = false;                           ///< the master decoded from this edge's result
  std::string failure;                         ///< why it could not deliver (empty when it could)
  std::vector<Index> workers_used;             ///< workers it decoded from, arrival order
  std::vector<long long> worker_message_bytes; ///< bytes of each of those workers' messages
  std::vector<Index> corrupted_workers;        ///< workers its decoder located and excluded
  long long message_bytes = 0;                 ///< bytes of its message to the master
  double amplification = 1;                    ///< rounding amplification of its decode (compounding codecs)
  double decoded_after_ms = 0;                 ///< from the round reaching the edge to its decode
};

/// One round at the master.
struct round_report {
  Index round = 0;
  std::vector<Index> edges_used;       ///< edges the master decoded from, arrival order
  std::vector<Index> corrupted_edges;  ///< located by the master's decoder and excluded
  std::vector<edge_summary> edges;     ///< one per edge
  Index late_messages = 0;             ///< replies of earlier rounds drained during this round
  double wall_ms = 0;                  ///< broadcast sent → gradient decoded
};

/// What serve() did on an edge or worker.
struct serve_report {
  Index rounds = 0;         ///< rounds this rank replied to
  Index abandoned = 0;      ///< rounds an edge gave up on (newer round, deadline, crash)
  Index late_messages = 0;  ///< stale replies drained
  std::vector<long long> received_bytes{};  ///< edges: bytes of every worker message used in a decode
};

template <hierarchical_codec Codec>
class tree_runner {
 public:
  using scalar_type = typename Codec::scalar_type;
  /// Fills `held` (d × task.partitions.size()) with the partial gradients g_k of the task's
  /// partitions, column t = g_{partitions[t]}.
  using worker_function = std::function<void(const worker_task<scalar_type>&, Eigen::Ref<matrix<scalar_type>>)>;

  /// Every rank builds the same runner (same codec, faults, options). No communication. Throws
  /// invalid_parameters when the codec's shape differs from the topology's, a fault names a node
  /// that does not exist, or edge_wait >= master_wait. `layout` must outlive the runner.
  tree_runner(const topology& layout, Codec codec, injection_plan faults = {}, transport_options options = {})
      : m_layout(&layout), m_codec(std::move(codec)), m_faults(std::move(faults)), m_options(options),
        m_tags(layout.tag_bound()) {
    if (m_codec.edges() != layout.edges())
      throw invalid_parameters("mpi runner: the code has " + std::to_string(m_codec.edges()) + " edges, the topology " +
                               std::to_string(layout.edges()));
    for (Index i = 0; i < layout.edges(); ++i)
      if (m_codec.workers(i) != layout.workers(i))
        throw invalid_parameters("mpi runner: edge " + std::to_string(i) + " has " + std::to_string(m_codec.workers(i)) +
                                 " workers in the code, " + std::to_string(layout.workers(i)) + " in the topology");
    if (!(m_options.edge_wait < m_options.master_wait))
      throw invalid_parameters("mpi runner: edge_wait (" + std::to_string(m_options.edge_wait.count()) +
                               " ms) must be below master_wait (" + std::to_string(m_options.master_wait.count()) +
                               " ms) so the master hears why an edge failed");
    if (m_options.poll_interval.count() < 0) throw invalid_parameters("mpi runner: negative poll interval");
    m_faults.bind(layout.workers_per_edge());
  }
  tree_runner(const topology&&, Codec, injection_plan = {}, transport_options = {}) = delete;

  const Codec& codec() const noexcept { return m_codec; }
  const topology& layout() const noexcept { return *m_layout; }
  const injection_plan& faults() const noexcept { return m_faults; }

  // --- master -----------------------------------------------------------------------------
  /// Runs one round: sends `broadcast` to every worker, waits for the first master_wait() edge
  /// results, decodes the gradient into `gradient` (length d). Throws not_decodable naming the
  /// counts of the master and of every edge when too few edges delivered within master_wait or
  /// too many failed; corrupted_result / not_decodable from the master's decoder; invalid_input
  /// on a wrong `gradient` length; transport_error when called on another role or after stop().
  round_report round(std::span<const scalar_type> broadcast, Eigen::Ref<vector<scalar_type>> gradient) {
    require(role::master, "round()");
    if (m_stopped) throw transport_error("master: round() after stop()");
    if (gradient.size() != m_codec.dimension())
      throw invalid_input("master: gradient has length " + std::to_string(gradient.size()) + ", d = " +
                          std::to_string(m_codec.dimension()));
    const auto start = detail::clock::now();
    const auto deadline = start + m_options.master_wait;
    const Index r = m_round++;
    const Index n = m_codec.edges(), needed = m_codec.master_wait(), C1 = m_codec.edge_message_length();
    MPI_Comm comm = m_layout->upper();
    round_report rep;
    rep.round = r;
    rep.edges.resize(static_cast<std::size_t>(n));
    rep.late_messages += drain(comm);

    // Receives first, so this round's replies never land in the unexpected queue.
    matrix<scalar_type> results(C1, n);
    std::vector<std::vector<std::int64_t>> info(static_cast<std::size_t>(n));
    std::vector<MPI_Request> requests(static_cast<std::size_t>(2 * n), MPI_REQUEST_NULL);
    for (Index i = 0; i < n; ++i) {
      const auto u = static_cast<std::size_t>(i);
      info[u].assign(static_cast<std::size_t>(info_capacity(i)), 0);
      detail::check(MPI_Irecv(results.col(i).data(), static_cast<int>(C1), detail::datatype<scalar_type>(), static_cast<int>(i + 1),
                              m_tags.tag(r, detail::kind::data), comm, &requests[2 * u]),
                    "MPI_Irecv (edge result)");
      detail::check(MPI_Irecv(info[u].data(), static_cast<int>(info[u].size()), MPI_INT64_T, static_cast<int>(i + 1),
                              m_tags.tag(r, detail::kind::info), comm, &requests[2 * u + 1]),
                    "MPI_Irecv (edge info)");
    }
    auto down = std::make_shared<std::vector<std::byte>>(sizeof(std::int64_t) + broadcast.size_bytes());
    const auto round64 = static_cast<std::int64_t>(r);
    std::memcpy(down->data(), &round64, sizeof round64);
    if (!broadcast.empty()) std::memcpy(down->data() + sizeof round64, broadcast.data(), broadcast.size_bytes());
    for (Index i = 0; i < n; ++i)
      m_out.send(down, down->data(), static_cast<int>(down->size()), MPI_BYTE, static_cast<int>(i + 1), m_tags.tag(r, detail::kind::data),
                 comm);

    std::vector<char> got_data(static_cast<std::size_t>(n), 0), got_info(static_cast<std::size_t>(n), 0),
        ok(static_cast<std::size_t>(n), 0);
    std::vector<Index> arrived;  // edges whose data and ok-info arrived, arrival order
    Index failed = 0;
    std::vector<int> indices(requests.size());
    std::vector<MPI_Status> statuses(requests.size());
    const long long expected_bytes = static_cast<long long>(C1) * static_cast<long long>(sizeof(scalar_type));
    bool done = false;
    while (true) {
      int count = 0;
      detail::check(MPI_Testsome(static_cast<int>(requests.size()), requests.data(), &count, indices.data(), statuses.data()),
                    "MPI_Testsome (master)");
      if (count == MPI_UNDEFINED) count = 0;
      for (int t = 0; t < count; ++t) {
        const auto u = static_cast<std::size_t>(indices[static_cast<std::size_t>(t)] / 2);
        const bool is_data = indices[static_cast<std::size_t>(t)] % 2 == 0;
        auto& es = rep.edges[u];
        int elements = 0;
        detail::check(MPI_Get_count(&statuses[static_cast<std::size_t>(t)], MPI_BYTE, &elements), "MPI_Get_count");
        if (is_data) {
          got_data[u] = 1;
          es.message_bytes = elements;
        } else {
          got_info[u] = 1;
          es.replied = true;
          parse_info(static_cast<Index>(u), info[u], elements / static_cast<int>(sizeof(std::int64_t)), es);
          if (!es.failure.empty()) ++failed;
        }
        if (got_data[u] && got_info[u] && es.failure.empty() && !ok[u]) {
          if (es.message_bytes != expected_bytes) {
            es.failure = "sent " + std::to_string(es.message_bytes) + " bytes, " + std::to_string(expected_bytes) + " expected";
            ++failed;
          } else {
            ok[u] = 1;
            arrived.push_back(static_cast<Index>(u));
          }
        }
      }
      if (static_cast<Index>(arrived.size()) >= needed) {
        done = true;
        break;
      }
      if (failed > n - needed || detail::clock::now() >= deadline) break;
      m_out.progress();
      rep.late_messages += drain(comm);
      if (count == 0) std::this_thread::sleep_for(m_options.poll_interval);
    }
    for (auto& q : requests) detail::cancel_receive(q);
    if (!done) throw not_decodable(master_failure(rep, arrived, needed, detail::elapsed_ms(start)), arrived.size(), static_cast<std::size_t>(needed));

    matrix<scalar_type> messages(C1, static_cast<Index>(arrived.size()));
    for (std::size_t t = 0; t < arrived.size(); ++t) messages.col(static_cast<Index>(t)) = results.col(arrived[t]);
    if constexpr (compounding_codec<Codec>) {
      double edge_amplification = 1;
      for (Index i : arrived) edge_amplification = std::max(edge_amplification, rep.edges[static_cast<std::size_t>(i)].amplification);
      rep.corrupted_edges = m_codec.master_decode(arrived, messages, gradient, edge_amplification);
    } else {
      rep.corrupted_edges = m_codec.master_decode(arrived, messages, gradient);
    }
    for (Index i : arrived) rep.edges[static_cast<std::size_t>(i)].used = true;
    rep.edges_used = std::move(arrived);
    rep.wall_ms = detail::elapsed_ms(start);
    return rep;
  }
  vector<scalar_type> round(std::span<const scalar_type> broadcast, round_report* report = nullptr) {
    vector<scalar_type> g(m_codec.dimension());
    auto r = round(broadcast, g);
    if (report) *report = std::move(r);
    return g;
  }

  /// Ends the run: edges and workers return from serve(). Drains late replies and waits for
  /// every edge's goodbye (bounded by shutdown_wait; transport_error naming the silent edges).
  void stop() {
    require(role::master, "stop()");
    if (m_stopped) return;
    m_stopped = true;
    MPI_Comm comm = m_layout->upper();
    const Index n = m_codec.edges();
    for (Index i = 0; i < n; ++i) m_out.send_empty(static_cast<int>(i + 1), detail::control_tag, comm);
    std::vector<char> bye(static_cast<std::size_t>(n), 0);
    await_goodbyes(comm, bye, "master", "edge");
  }

  // --- edges, workers, idle ranks -----------------------------------------------------------
  /// Serves rounds until the master calls stop(). Edges decode and forward; workers call
  /// `compute` for their partitions, encode and reply (after their injected delay; crashed
  /// workers stay silent). Idle ranks return at once. Throws transport_error when nothing arrives
  /// for idle_wait, or the stop handshake exceeds shutdown_wait.
  serve_report serve(const worker_function& compute) {
    switch (m_layout->my_role()) {
      case role::master: throw transport_error("master: serve() is for edges and workers; the master calls round() and stop()");
      case role::edge: return serve_edge();
      case role::worker: return serve_worker(compute);
      case role::idle: break;
    }
    return {};
  }

 private:
  // info layout (int64): status, received, needed, elapsed µs, #used, used ids…, their bytes…,
  // #corrupted, corrupted ids…, the decode's amplification (a double's bits)
  enum status : std::int64_t { ok_status = 0, timed_out = 1, undecodable = 2, corrupted = 3, malformed = 4 };
  Index info_capacity(Index edge) const { return 7 + 3 * m_codec.workers(edge); }

  void parse_info(Index edge, const std::vector<std::int64_t>& v, int length, edge_summary& es) const {
    const auto at = [&](Index k) -> std::int64_t { return k < length ? v[static_cast<std::size_t>(k)] : -1; };
    const std::int64_t st = at(0), received = at(1), needed = at(2);
    es.decoded_after_ms = static_cast<double>(at(3)) / 1000.0;
    const std::string counts = std::to_string(received) + " of " + std::to_string(m_codec.workers(edge)) + " workers replied";
    switch (st) {
      case ok_status: break;
      case timed_out:
        es.failure = counts + " within " + std::to_string(m_options.edge_wait.count()) + " ms, " + std::to_string(needed) + " needed";
        return;
      case undecodable: es.failure = "could not decode from " + counts + " (not_decodable)"; return;
      case corrupted: es.failure = "corruption beyond its correction budget among " + counts + " (corrupted_result)"; return;
      default: es.failure = "a worker message was malformed (" + counts + ")"; return;
    }
    const Index used = at(4);
    Index k = 5;
    for (Index t = 0; t < used; ++t) es.workers_used.push_back(at(k++));
    for (Index t = 0; t < used; ++t) es.worker_message_bytes.push_back(at(k++));
    const Index bad = at(k++);
    for (Index t = 0; t < bad; ++t) es.corrupted_workers.push_back(at(k++));
    if (k < length) es.amplification = std::bit_cast<double>(at(k));
  }

  std::string master_failure(const round_report& rep, const std::vector<Index>& arrived, Index needed, double ms) const {
    std::string s = "master: round " + std::to_string(rep.round) + ": " + std::to_string(arrived.size()) + " of " +
                    std::to_string(m_codec.edges()) + " edges delivered within " + std::to_string(static_cast<long long>(ms)) + " ms, " +
                    std::to_string(needed) + " needed (";
    std::vector<Index> silent;
    bool first = true;
    for (Index i = 0; i < m_codec.edges(); ++i) {
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

  serve_report serve_edge() {
    const Index e = m_layout->edge(), m = m_codec.workers(e), need = m_codec.edge_wait(e);
    const Index C2 = m_codec.worker_message_length(e), C1 = m_codec.edge_message_length();
    const long long expected_bytes = static_cast<long long>(C2) * static_cast<long long>(sizeof(scalar_type));
    MPI_Comm up = m_layout->upper(), down = m_layout->lower();
    const std::string who = "edge " + std::to_string(e);
    serve_report rep;
    struct round_state {
      bool active = false;
      Index r = 0;
      detail::clock::time_point start{};
      std::vector<MPI_Request> requests;
      matrix<scalar_type> buffers;
      std::vector<Index> order;
      std::vector<long long> bytes;
    } cur;
    cur.buffers.resize(C2, m);
    cur.requests.assign(static_cast<std::size_t>(m), MPI_REQUEST_NULL);
    std::vector<int> indices(static_cast<std::size_t>(m));
    std::vector<MPI_Status> statuses(static_cast<std::size_t>(m));
    auto abandon = [&] {
      for (auto& q : cur.requests) rep.late_messages += detail::cancel_receive(q) ? 1 : 0;
      cur.active = false;
    };
    auto reply = [&](std::vector<std::int64_t> info, std::shared_ptr<vector<scalar_type>> data) {
      auto box = std::make_shared<std::vector<std::int64_t>>(std::move(info));
      m_out.send(box, box->data(), static_cast<int>(box->size()), MPI_INT64_T, 0, m_tags.tag(cur.r, detail::kind::info), up);
      if (data)
        m_out.send(data, data->data(), static_cast<int>(data->size()), detail::datatype<scalar_type>(), 0,
                   m_tags.tag(cur.r, detail::kind::data), up);
    };
    auto last_heard = detail::clock::now();
    bool stop = false;
    while (!stop) {
      bool busy = false;
      // Downlinks: take all that wait, keep the newest round (an edge that fell behind skips).
      std::optional<std::vector<std::byte>> newest;
      detail::envelope env;
      while (!stop && detail::probe(up, 0, env)) {
        auto bytes = detail::receive_bytes(up, env);
        busy = true;
        last_heard = detail::clock::now();
        if (env.tag == detail::control_tag)
          stop = true;
        else
          newest = std::move(bytes);
      }
      if (stop) break;
      if (newest) {
        if (cur.active) {
          abandon();
          ++rep.abandoned;
        }
        std::int64_t r64 = 0;
        std::memcpy(&r64, newest->data(), sizeof r64);
        cur.r = static_cast<Index>(r64);
        cur.order.clear();
        cur.bytes.clear();
        cur.start = detail::clock::now();
        if (m_faults.edge_fault(e, cur.r).crashed) {
          ++rep.abandoned;  // a crashed edge neither asks its workers nor replies
        } else {
          for (Index j = 0; j < m; ++j)
            detail::check(MPI_Irecv(cur.buffers.col(j).data(), static_cast<int>(C2), detail::datatype<scalar_type>(),
                                    static_cast<int>(j + 1), m_tags.tag(cur.r, detail::kind::data), down,
                                    &cur.requests[static_cast<std::size_t>(j)]),
                          "MPI_Irecv (worker message)");
          auto shared = std::make_shared<std::vector<std::byte>>(std::move(*newest));
          for (Index j = 0; j < m; ++j)
            m_out.send(shared, shared->data(), static_cast<int>(shared->size()), MPI_BYTE, static_cast<int>(j + 1),
                       m_tags.tag(cur.r, detail::kind::data), down);
          cur.active = true;
        }
      }
      if (cur.active) {
        int count = 0;
        detail::check(MPI_Testsome(static_cast<int>(m), cur.requests.data(), &count, indices.data(), statuses.data()),
                      "MPI_Testsome (edge)");
        if (count == MPI_UNDEFINED) count = 0;
        busy = busy || count > 0;
        for (int t = 0; t < count; ++t) {
          int b = 0;
          detail::check(MPI_Get_count(&statuses[static_cast<std::size_t>(t)], MPI_BYTE, &b), "MPI_Get_count");
          cur.order.push_back(indices[static_cast<std::size_t>(t)]);
          cur.bytes.push_back(b);
        }
        const auto elapsed_us = static_cast<std::int64_t>(detail::elapsed_ms(cur.start) * 1000);
        if (static_cast<Index>(cur.order.size()) >= need) {
          abandon();  // the rest of this round's workers are late now
          std::vector<std::int64_t> info{ok_status, static_cast<std::int64_t>(cur.order.size()), need, elapsed_us};
          auto out = std::make_shared<vector<scalar_type>>(C1);
          std::vector<Index> bad;
          double amplification = 1;
          try {
            for (long long b : cur.bytes)
              if (b != expected_bytes) throw invalid_input(who + ": a worker message has " + std::to_string(b) + " bytes, " +
                                                           std::to_string(expected_bytes) + " expected");
            matrix<scalar_type> messages(C2, static_cast<Index>(cur.order.size()));
            for (std::size_t t = 0; t < cur.order.size(); ++t) messages.col(static_cast<Index>(t)) = cur.buffers.col(cur.order[t]);
            bad = m_codec.edge_decode(e, cur.order, messages, *out);
            if constexpr (compounding_codec<Codec>) amplification = m_codec.edge_amplification(e, cur.order);
          } catch (const not_decodable&) {
            info[0] = undecodable;
          } catch (const corrupted_result&) {
            info[0] = corrupted;
          } catch (const invalid_input&) {
            info[0] = malformed;
          }
          if (info[0] == ok_status) {
            info.push_back(static_cast<std::int64_t>(cur.order.size()));
            info.insert(info.end(), cur.order.begin(), cur.order.end());
            info.insert(info.end(), cur.bytes.begin(), cur.bytes.end());
            info.push_back(static_cast<std::int64_t>(bad.size()));
            info.insert(info.end(), bad.begin(), bad.end());
            info.push_back(std::bit_cast<std::int64_t>(amplification));
            rep.received_bytes.insert(rep.received_bytes.end(), cur.bytes.begin(), cur.bytes.end());
            const node_fault f = m_faults.edge_fault(e, cur.r);
            if (f.delay_ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(f.delay_ms));
            if (f.corruption != 0) out->array() += static_cast<scalar_type>(f.corruption);
            reply(std::move(info), std::move(out));
            ++rep.rounds;
          } else {
            reply(std::move(info), nullptr);
          }
        } else if (detail::clock::now() - cur.start >= m_options.edge_wait) {
          abandon();
          ++rep.abandoned;
          reply({timed_out, static_cast<std::int64_t>(cur.order.size()), need, elapsed_us}, nullptr);
        }
      }
      rep.late_messages += drain(down);
      m_out.progress();
      if (!busy) {
        if (!cur.active && detail::clock::now() - last_heard > m_options.idle_wait)
          throw transport_error(who + ": no round or stop from the master for " + std::to_string(m_options.idle_wait.count()) + " ms");
        std::this_thread::sleep_for(m_options.poll_interval);
      }
    }
    if (cur.active) abandon();
    // Stop travels down; goodbyes come up after each worker's last message.
    for (Index j = 0; j < m; ++j) m_out.send_empty(static_cast<int>(j + 1), detail::control_tag, down);
    std::vector<char> bye(static_cast<std::size_t>(m), 0);
    rep.late_messages += await_goodbyes(down, bye, who, "worker");
    m_out.send_empty(0, detail::control_tag, up);
    if (!m_out.flush(detail::clock::now() + m_options.shutdown_wait, m_options.poll_interval))
      throw transport_error(who + ": " + std::to_string(m_out.pending()) + " sends still pending after " +
                            std::to_string(m_options.shutdown_wait.count()) + " ms of shutdown");
    return rep;
  }

  serve_report serve_worker(const worker_function& compute) {
    const worker_id w = m_layout->worker();
    const std::string who = "worker (" + std::to_string(w.edge) + "," + std::to_string(w.worker) + ")";
    MPI_Comm down = m_layout->lower();
    const std::vector<Index> parts = m_codec.worker_partitions(w);
    const Index C2 = m_codec.worker_message_length(w.edge);
    matrix<scalar_type> held(m_codec.dimension(), static_cast<Index>(parts.size()));
    std::vector<scalar_type> payload;
    serve_report rep;
    auto last_heard = detail::clock::now();
    while (true) {
      std::optional<std::vector<std::byte>> newest;
      bool stop = false;
      detail::envelope env;
      while (!stop && detail::probe(down, 0, env)) {
        auto bytes = detail::receive_bytes(down, env);
        if (env.tag == detail::control_tag)
          stop = true;
        else
          newest = std::move(bytes);  // a worker that fell behind skips superseded rounds
      }
      if (stop) break;
      if (!newest) {
        m_out.progress();
        if (detail::clock::now() - last_heard > m_options.idle_wait)
          throw transport_error(who + ": no round or stop from edge " + std::to_string(w.edge) + " for " +
                                std::to_string(m_options.idle_wait.count()) + " ms");
        std::this_thread::sleep_for(m_options.poll_interval);
        continue;
      }
      last_heard = detail::clock::now();
      std::int64_t r64 = 0;
      if (newest->size() < sizeof r64 || (newest->size() - sizeof r64) % sizeof(scalar_type) != 0)
        throw transport_error(who + ": malformed broadcast of " + std::to_string(newest->size()) + " bytes");
      std::memcpy(&r64, newest->data(), sizeof r64);
      payload.resize((newest->size() - sizeof r64) / sizeof(scalar_type));
      if (!payload.empty()) std::memcpy(payload.data(), newest->data() + sizeof r64, payload.size() * sizeof(scalar_type));
      const auto r = static_cast<Index>(r64);
      const node_fault f = m_faults.worker_fault(w, r, static_cast<double>(parts.size()));
      if (f.crashed) continue;  // never replies
      compute(worker_task<scalar_type>{r, w, payload, parts}, held);
      auto message = std::make_shared<vector<scalar_type>>(C2);
      m_codec.encode_held(w, held, *message);
      if (f.delay_ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(f.delay_ms));
      if (f.corruption != 0) message->array() += static_cast<scalar_type>(f.corruption);
      m_out.send(message, message->data(), static_cast<int>(C2), detail::datatype<scalar_type>(), 0, m_tags.tag(r, detail::kind::data),
                 down);
      ++rep.rounds;
    }
    m_out.send_empty(0, detail::control_tag, down);
    if (!m_out.flush(detail::clock::now() + m_options.shutdown_wait, m_options.poll_interval))
      throw transport_error(who + ": " + std::to_string(m_out.pending()) + " sends still pending after " +
                            std::to_string(m_options.shutdown_wait.count()) + " ms of shutdown");
    return rep;
  }

  /// Receives and discards every unmatched message on `comm` (replies of earlier rounds).
  Index drain(MPI_Comm comm) {
    Index late = 0;
    detail::envelope env;
    while (detail::probe(comm, MPI_ANY_SOURCE, env)) {
      detail::receive_bytes(comm, env);
      ++late;
    }
    return late;
  }

  /// Drains `comm` until every child (rank c + 1 for bye[c]) said goodbye; returns the late
  /// replies drained meanwhile. Throws transport_error naming the silent children.
  Index await_goodbyes(MPI_Comm comm, std::vector<char>& bye, const std::string& who, const char* child) {
    const auto deadline = detail::clock::now() + m_options.shutdown_wait;
    Index late = 0;
    while (std::count(bye.begin(), bye.end(), 1) < static_cast<std::ptrdiff_t>(bye.size())) {
      detail::envelope env;
      if (detail::probe(comm, MPI_ANY_SOURCE, env)) {
        detail::receive_bytes(comm, env);
        if (env.tag == detail::control_tag)
          bye[static_cast<std::size_t>(env.source - 1)] = 1;
        else
          ++late;
        continue;
      }
      if (detail::clock::now() >= deadline) {
        std::string missing;
        for (std::size_t c = 0; c < bye.size(); ++c)
          if (!bye[c]) missing += (missing.empty() ? "" : ", ") + std::to_string(c);
        throw transport_error(who + ": stop: no goodbye from " + child + " " + missing + " within " +
                              std::to_string(m_options.shutdown_wait.count()) + " ms");
      }
      m_out.progress();
      std::this_thread::sleep_for(m_options.poll_interval);
    }
    if (!m_out.flush(deadline, m_options.poll_interval))
      throw transport_error(who + ": " + std::to_string(m_out.pending()) + " sends still pending after the stop handshake");
    return late;
  }

  void require(role r, const char* what) const {
    if (m_layout->my_role() != r)
      throw transport_error(m_layout->describe() + ": " + what + " is for the " + (r == role::master ? "master" : "other roles"));
  }

  const topology* m_layout;
  Codec m_codec;
  injection_plan m_faults;
  transport_options m_options;
  detail::round_tags m_tags;
  detail::outbox m_out;
  Index m_round = 0;
  bool m_stopped = false;
};

}  // namespace gradcode::mpi
