// SPDX-License-Identifier: MIT
// One decoding round of a three-level code over MPI (issues 8, 13, 14), for any code that satisfies
// gradcode::hierarchical_codec (core/codec.hpp; hgc_code: tang2024, polynomial_hgc: gholami2025),
// used as it is, without an adapter: the master
// sends the round's broadcast down the tree, workers compute and encode, each edge decodes as soon
// as its first `edge_wait` worker messages arrived, the master as soon as its first `master_wait`
// edge results arrived. Every message is a wire message (wire.hpp) received as bytes and parsed
// before use: late ones (an older round), malformed ones (wrong length, scalar type or kind) and
// those of a rank that built another code are dropped and counted, never mixed in.
//
// Algorithm (tags from transport.hpp):
//   start-up  the master's first round() sends hello(fingerprint) to the edges, each edge answers
//             and forwards it to its workers, which answer; edges compare their workers'
//             fingerprints with their own (and drop the messages of a worker that differs) and
//             forward every answer up. The master waits for all n + Σm_i answers (bounded by
//             handshake_wait) and throws code_mismatch naming the first rank that differs.
//   round r   master: Isend broadcast → receive edge results until f edges delivered (decode), too
//             many failed, or master_wait passed (not_decodable with counts).
//             edge: on a broadcast of round r abandon round < r and forward; collect worker
//             messages until edge_wait of them arrived (decode, send result with its counts) or
//             edge_wait time passed (send a failure with the counts).
//             worker: take the newest broadcast (skip superseded rounds), compute, encode, apply
//             its injected fault, Isend.
//   stop      master → edges → workers; each rank answers with a goodbye after its last data, so
//             every pending send is matched before anyone returns (bounded by shutdown_wait).
// One header (~840 lines) for now: the master, edge and worker state machines share the round and
// wire state; one file per role is still open (issue 14).
#pragma once

#include <mpi.h>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/core/codec.hpp"
#include "gradcode/core/worker_id.hpp"
#include "gradcode/mpi/errors.hpp"
#include "gradcode/mpi/fingerprint.hpp"
#include "gradcode/mpi/injection.hpp"
#include "gradcode/mpi/topology.hpp"
#include "gradcode/mpi/transport.hpp"
#include "gradcode/mpi/wire.hpp"

namespace gradcode::mpi {

/// What a code adds to its start-up fingerprint beyond what the concept shows (seeds,
/// constructions, coefficients, evaluation points): specialised with a static
/// `add(fingerprint&, const Code&)` next to the code's MPI header (hgc_runner.hpp,
/// polynomial_runner.hpp). Without one, only the shapes are compared.
template <class Code>
struct code_parameters;

/// The fingerprint every rank of a run sends at start-up: the scalar type, n, every m_i, d, the
/// message lengths and waits, every worker's partitions, and code_parameters<Codec>::add when
/// the code has it. Equal on two ranks that built the same code (on any host); a different K, s_e, s_w, d,
/// scalar type or placement — and, through code_parameters, seed or points — changes it.
template <gradcode::hierarchical_codec Codec>
std::uint64_t code_fingerprint(const Codec& c, Index d) {
  using scalar = typename Codec::scalar_type;
  fingerprint f;
  f.add("gradcode::mpi::tree_runner/1").add(std::is_same_v<scalar, float> ? "float" : "double");
  const Index n = c.edges();
  f.add(n).add(d).add(c.edge_message_length(d)).add(c.master_wait());
  for (Index i = 0; i < n; ++i) {
    f.add(c.workers(i)).add(c.worker_message_length(i, d)).add(c.edge_wait(i));
    for (Index j = 0; j < c.workers(i); ++j) {
      const auto parts = c.worker_partitions(worker_id{i, j});
      f.add(static_cast<Index>(parts.size()));
      for (Index k : parts) f.add(k);
    }
  }
  if constexpr (requires { code_parameters<Codec>::add(f, c); }) code_parameters<Codec>::add(f, c);
  return f.value();
}

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
  bool replied = false;                        ///< a result, a failure notice or a malformed message arrived in time
  bool used = false;                           ///< the master decoded from this edge's result
  std::string failure;                         ///< why it could not deliver (empty when it could)
  std::vector<Index> workers_used;             ///< workers it decoded from, arrival order
  std::vector<long long> worker_message_bytes; ///< payload bytes of each of those workers' messages
  std::vector<Index> corrupted_workers;        ///< workers its decoder located and excluded
  std::vector<Index> rejected_workers;         ///< workers whose message of this round it dropped as malformed
  Index late_messages = 0;                     ///< worker messages of earlier rounds it dropped since its previous report
  long long message_bytes = 0;                 ///< payload bytes of its message to the master (wire header not counted)
  double amplification = 1;                    ///< rounding amplification of its decode (decode_report), for the master
  double decoded_after_ms = 0;                 ///< from the round reaching the edge to its decode
};

/// One round at the master.
struct round_report {
  Index round = 0;
  std::vector<Index> edges_used;       ///< edges the master decoded from, arrival order
  std::vector<Index> corrupted_edges;  ///< located by the master's decoder and excluded
  std::vector<edge_summary> edges;     ///< one per edge
  Index late_messages = 0;             ///< edge results of earlier rounds dropped during this round
  Index malformed_messages = 0;        ///< edge messages dropped as malformed during this round
  double wall_ms = 0;                  ///< broadcast sent → gradient decoded
};

/// What serve() did on an edge or worker.
struct serve_report {
  Index rounds = 0;              ///< rounds this rank replied to
  Index abandoned = 0;           ///< rounds an edge gave up on (newer round, deadline, crash)
  Index late_messages = 0;       ///< messages of earlier rounds dropped
  Index malformed_messages = 0;  ///< messages dropped as malformed or from a rank with another code
  std::vector<long long> received_bytes{};  ///< edges: payload bytes of every worker message used in a decode
};

template <gradcode::hierarchical_codec Codec>
class tree_runner {
 public:
  using scalar_type = typename Codec::scalar_type;
  /// Fills `held` (d × task.partitions.size()) with the partial gradients g_k of the task's
  /// partitions, column t = g_{partitions[t]}.
  using worker_function = std::function<void(const worker_task<scalar_type>&, Eigen::Ref<matrix<scalar_type>>)>;

  /// Every rank builds the same runner (same code, d, faults, options); a rank that builds another
  /// code is reported by the master at start-up (code_mismatch). No communication. Throws
  /// invalid_parameters when the code's shape differs from the topology's, d < 1, a fault names a
  /// node that does not exist, or edge_wait >= master_wait; invalid_input when the code is built
  /// for another d (polynomial_hgc). `layout` and `code` must outlive the runner.
  tree_runner(const topology& layout, const Codec& code, Index dimension, injection_plan faults = {},
              transport_options options = {})
      : m_layout(&layout), m_code(&code), m_d(dimension), m_faults(std::move(faults)), m_options(options),
        m_tags(layout.tag_bound()) {
    if (dimension < 1) throw invalid_parameters("mpi runner: d = " + std::to_string(dimension) + "; need d >= 1");
    if (m_code->edges() != layout.edges())
      throw invalid_parameters("mpi runner: the code has " + std::to_string(m_code->edges()) + " edges, the topology " +
                               std::to_string(layout.edges()));
    for (Index i = 0; i < layout.edges(); ++i)
      if (m_code->workers(i) != layout.workers(i))
        throw invalid_parameters("mpi runner: edge " + std::to_string(i) + " has " + std::to_string(m_code->workers(i)) +
                                 " workers in the code, " + std::to_string(layout.workers(i)) + " in the topology");
    if (!(m_options.edge_wait < m_options.master_wait))
      throw invalid_parameters("mpi runner: edge_wait (" + std::to_string(m_options.edge_wait.count()) +
                               " ms) must be below master_wait (" + std::to_string(m_options.master_wait.count()) +
                               " ms) so the master hears why an edge failed");
    if (m_options.poll_interval.count() < 0) throw invalid_parameters("mpi runner: negative poll interval");
    if (m_options.handshake_wait.count() < 0) throw invalid_parameters("mpi runner: negative handshake_wait");
    m_faults.bind(layout.workers_per_edge());
    m_fingerprint = code_fingerprint(*m_code, m_d);
    // Receive bounds (bytes): the largest honest message on each link. Every message must fit
    // MPI's int count of bytes: checked on lengths (by division, so nothing overflows) first.
    const std::size_t scalar = sizeof(scalar_type), hello_body = 16;
    Index most_workers = 0;
    for (Index i = 0; i < layout.edges(); ++i) most_workers = std::max(most_workers, layout.workers(i));
    const std::size_t framing = wire::header_bytes + 8 * static_cast<std::size_t>(8 + 4 * most_workers);
    const std::size_t room = static_cast<std::size_t>(std::numeric_limits<int>::max()) - framing;
    auto fits = [&](Index scalars) { return scalars >= 0 && static_cast<std::size_t>(scalars) <= room / scalar; };
    bool ok = fits(m_code->edge_message_length(m_d)) && m_options.max_broadcast_bytes <= room;
    for (Index i = 0; i < layout.edges(); ++i) ok = ok && fits(m_code->worker_message_length(i, m_d));
    if (!ok)
      throw invalid_parameters("mpi runner: messages of C1 = " + std::to_string(m_code->edge_message_length(m_d)) +
                               " scalars (or a worker message, or max_broadcast_bytes = " + std::to_string(m_options.max_broadcast_bytes) +
                               ") do not fit MPI's int count of " + std::to_string(room) + " payload bytes; split the gradient");
    m_downlink_limit = wire::header_bytes + std::max(hello_body, m_options.max_broadcast_bytes);
    m_result_limit = framing + std::max(hello_body, static_cast<std::size_t>(m_code->edge_message_length(m_d)) * scalar);
    if (layout.my_role() == role::edge || layout.my_role() == role::worker)
      m_worker_limit = wire::header_bytes +
                       std::max(hello_body, static_cast<std::size_t>(m_code->worker_message_length(layout.edge(), m_d)) * scalar);
    m_edge_verified.assign(static_cast<std::size_t>(layout.edges()), 0);
    for (Index i = 0; i < layout.edges(); ++i) m_worker_verified.emplace_back(static_cast<std::size_t>(layout.workers(i)), 0);
  }
  tree_runner(const topology&&, const Codec&, Index, injection_plan = {}, transport_options = {}) = delete;
  tree_runner(const topology&, const Codec&&, Index, injection_plan = {}, transport_options = {}) = delete;

  const Codec& code() const noexcept { return *m_code; }
  /// d, the gradient length.
  Index dimension() const noexcept { return m_d; }
  const topology& layout() const noexcept { return *m_layout; }
  const injection_plan& faults() const noexcept { return m_faults; }
  /// This rank's code fingerprint (code_fingerprint of the codec).
  std::uint64_t code_id() const noexcept { return m_fingerprint; }
  /// Master: parent ranks (edges and workers) whose hello matched the master's fingerprint so far.
  std::vector<int> verified_ranks() const {
    std::vector<int> out;
    for (Index i = 0; i < m_layout->edges(); ++i) {
      if (m_edge_verified[static_cast<std::size_t>(i)]) out.push_back(m_layout->rank_of_edge(i));
      for (Index j = 0; j < m_layout->workers(i); ++j)
        if (m_worker_verified[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)]) out.push_back(m_layout->rank_of({i, j}));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // --- master -----------------------------------------------------------------------------
  /// Runs one round: sends `broadcast` to every worker, waits for the first master_wait() edge
  /// results, decodes the gradient into `gradient` (length d). The first call runs the start-up
  /// handshake. Throws code_mismatch naming a rank whose code differs (before anything is
  /// broadcast when its hello arrived within handshake_wait, and on every later call); not_decodable
  /// naming the counts of the master and of every edge when too few edges delivered within
  /// master_wait or too many failed; corrupted_result / not_decodable from the master's decoder;
  /// invalid_input on a wrong `gradient` length or a broadcast above max_broadcast_bytes;
  /// transport_error when called on another role or after stop().
  round_report round(std::span<const scalar_type> broadcast, Eigen::Ref<vector<scalar_type>> gradient) {
    require(role::master, "round()");
    if (m_stopped) throw transport_error("master: round() after stop()");
    if (m_mismatch) throw *m_mismatch;
    if (gradient.size() != m_d)
      throw invalid_input("master: gradient has length " + std::to_string(gradient.size()) + ", d = " +
                          std::to_string(m_d));
    if (broadcast.size_bytes() > m_options.max_broadcast_bytes)
      throw invalid_input("master: a broadcast of " + std::to_string(broadcast.size_bytes()) + " bytes exceeds max_broadcast_bytes = " +
                          std::to_string(m_options.max_broadcast_bytes));
    const Index n = m_code->edges(), needed = m_code->master_wait(), C1 = m_code->edge_message_length(m_d);
    MPI_Comm comm = m_layout->upper();
    round_report rep;
    rep.edges.resize(static_cast<std::size_t>(n));
    if (!m_greeted) handshake(rep);

    const auto start = detail::clock::now();
    const auto deadline = start + m_options.master_wait;
    master_round st{m_round++, matrix<scalar_type>(C1, n), {}, 0};
    rep.round = st.r;
    wire::message down;
    down.kind = wire::message_kind::round_start;
    down.scalar_bytes = wire::scalar_code<scalar_type>();
    down.round = st.r;
    down.payload = wire::payload_of(broadcast);
    const auto bytes = std::make_shared<const std::vector<std::byte>>(wire::serialise(down));
    for (Index i = 0; i < n; ++i) m_out.send(bytes, m_layout->rank_of_edge(i), m_tags.tag(st.r), comm);

    bool done = false;
    while (true) {
      bool any = false;
      incoming in;
      while (next(comm, MPI_ANY_SOURCE, in)) {
        any = true;
        on_master_message(in, &st, rep);
      }
      if (static_cast<Index>(st.arrived.size()) >= needed) {
        done = true;
        break;
      }
      if (st.failed > n - needed || detail::clock::now() >= deadline) break;
      m_out.progress();
      if (!any) std::this_thread::sleep_for(m_options.poll_interval);
    }
    if (!done)
      throw not_decodable(master_failure(rep, st.arrived, needed, detail::elapsed_ms(start)), st.arrived.size(),
                          static_cast<std::size_t>(needed));

    matrix<scalar_type> messages(C1, static_cast<Index>(st.arrived.size()));
    for (std::size_t t = 0; t < st.arrived.size(); ++t) messages.col(static_cast<Index>(t)) = st.results.col(st.arrived[t]);
    std::vector<decode_report> edge_reports(st.arrived.size());  // the amplifications the edges sent: both layers checked
    for (std::size_t t = 0; t < st.arrived.size(); ++t)
      edge_reports[t].amplification = rep.edges[static_cast<std::size_t>(st.arrived[t])].amplification;
    rep.corrupted_edges = m_code->master_decode(st.arrived, messages, edge_reports, gradient).corrupted;
    for (Index i : st.arrived) rep.edges[static_cast<std::size_t>(i)].used = true;
    rep.edges_used = std::move(st.arrived);
    rep.wall_ms = detail::elapsed_ms(start);
    return rep;
  }
  vector<scalar_type> round(std::span<const scalar_type> broadcast, round_report* report = nullptr) {
    vector<scalar_type> g(m_d);
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
    const auto bytes = control(wire::message_kind::stop);
    for (Index i = 0; i < m_code->edges(); ++i) m_out.send(bytes, m_layout->rank_of_edge(i), detail::control_tag, comm);
    std::vector<char> bye(static_cast<std::size_t>(m_code->edges()), 0);
    await_goodbyes(comm, bye, m_result_limit, "master", "edge");
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
  /// A received message: its envelope and its bytes.
  struct incoming {
    detail::envelope env;
    std::vector<std::byte> bytes;
  };
  /// The master's state in round r.
  struct master_round {
    Index r = 0;
    matrix<scalar_type> results;  // C1 × n, column i = edge i's result
    std::vector<Index> arrived;   // edges whose result arrived intact, arrival order
    Index failed = 0;             // edges that reported a failure or sent a malformed message
  };

  /// Takes the next unmatched message on `comm` from `source`, if any.
  bool next(MPI_Comm comm, int source, incoming& in) {
    if (!detail::probe(comm, source, in.env)) return false;
    in.bytes = detail::receive_bytes(comm, in.env);
    return true;
  }
  /// Parses `in`; on a malformed message returns nullopt and sets `why`. A message must fit the
  /// link's bound `limit` (the largest honest one), a round message travel on its round's tag, a
  /// control message on the control tag.
  std::optional<wire::message> parse(const incoming& in, std::size_t limit, std::string& why) const {
    if (in.bytes.size() > limit) {
      why = "a message of " + std::to_string(in.bytes.size()) + " bytes, at most " + std::to_string(limit) + " expected";
      return std::nullopt;
    }
    try {
      wire::message m = wire::parse(in.bytes);
      const bool round_message = m.kind == wire::message_kind::round_start || m.kind == wire::message_kind::worker_result ||
                                 m.kind == wire::message_kind::edge_result;
      const int tag = round_message ? m_tags.tag(static_cast<Index>(m.round)) : detail::control_tag;
      if (in.env.tag != tag) {
        why = std::string("a ") + wire::detail::name(m.kind) + " on tag " + std::to_string(in.env.tag) + ", " + std::to_string(tag) + " expected";
        return std::nullopt;
      }
      return m;
    } catch (const invalid_input& e) {
      why = gradcode::detail::untagged(e);
      return std::nullopt;
    }
  }
  /// A shared hello, stop or goodbye.
  std::shared_ptr<const std::vector<std::byte>> control(wire::message_kind kind, std::uint64_t fp = 0, Index node = -1) const {
    wire::message m;
    m.kind = kind;
    m.fingerprint = fp;
    m.node = node;
    return std::make_shared<const std::vector<std::byte>>(wire::serialise(m));
  }
  static std::string hex(std::uint64_t v) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(v));
    return text;
  }

  // --- master internals ---------------------------------------------------------------------
  /// Start-up: hello to every edge, then every edge's and worker's answer (bounded).
  void handshake(round_report& rep) {
    m_greeted = true;
    MPI_Comm comm = m_layout->upper();
    const auto hello = control(wire::message_kind::hello, m_fingerprint);
    for (Index i = 0; i < m_code->edges(); ++i) m_out.send(hello, m_layout->rank_of_edge(i), detail::control_tag, comm);
    const auto expected = static_cast<std::size_t>(m_code->edges() + m_layout->total_workers());
    const auto deadline = detail::clock::now() + m_options.handshake_wait;
    while (verified_ranks().size() < expected && detail::clock::now() < deadline) {
      bool any = false;
      incoming in;
      while (next(comm, MPI_ANY_SOURCE, in)) {
        any = true;
        on_master_message(in, nullptr, rep);
      }
      m_out.progress();
      if (!any) std::this_thread::sleep_for(m_options.poll_interval);
    }
  }

  /// One message at the master, during round `st` (nullptr: the handshake).
  void on_master_message(const incoming& in, master_round* st, round_report& rep) {
    const Index i = in.env.source - 1;  // upper rank i + 1 = edge i
    if (i < 0 || i >= m_code->edges()) {
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
    const auto m = parse(in, m_result_limit, why);
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
      wire::validate_edge_result(*m, i, m_code->workers(i));
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
      const Index C1 = m_code->edge_message_length(m_d);
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
    if (m.node >= m_code->workers(i)) return reject("a hello for worker " + std::to_string(m.node) + " of edge " + std::to_string(i));
    const bool own = m.node < 0;
    const int rank = own ? m_layout->rank_of_edge(i) : m_layout->rank_of({i, static_cast<Index>(m.node)});
    if (m.fingerprint != m_fingerprint) {
      const std::string role_name =
          own ? "edge " + std::to_string(i) : "worker (" + std::to_string(i) + "," + std::to_string(m.node) + ")";
      m_mismatch.emplace("mpi: rank " + std::to_string(rank) + " (" + role_name + ") built a different code than the master: fingerprint " +
                             hex(m.fingerprint) + ", the master's " + hex(m_fingerprint) +
                             " (every rank must build the same code: parameters, scalar type and d)",
                         rank, m_fingerprint, m.fingerprint);
      throw *m_mismatch;
    }
    if (own)
      m_edge_verified[static_cast<std::size_t>(i)] = 1;
    else
      m_worker_verified[static_cast<std::size_t>(i)][static_cast<std::size_t>(m.node)] = 1;
  }

  std::string describe_failure(Index edge, const wire::message& m) const {
    const std::string counts = std::to_string(m.received) + " of " + std::to_string(m_code->workers(edge)) + " workers replied";
    std::string s;
    switch (m.status) {
      case wire::edge_status::timed_out:
        s = counts + " within " + std::to_string(m_options.edge_wait.count()) + " ms, " + std::to_string(m.needed) + " needed";
        break;
      case wire::edge_status::undecodable: s = "could not decode from " + counts + " (not_decodable)"; break;
      case wire::edge_status::corrupted: s = "corruption beyond its correction budget among " + counts + " (corrupted_result)"; break;
      default: s = "a worker message was malformed (" + counts + ")"; break;
    }
    if (!m.rejected.empty()) {
      s += "; dropped malformed messages of worker";
      for (std::size_t t = 0; t < m.rejected.size(); ++t) s += (t ? ", " : " ") + std::to_string(m.rejected[t]);
    }
    return s;
  }

  std::string master_failure(const round_report& rep, const std::vector<Index>& arrived, Index needed, double ms) const {
    std::string s = "master: round " + std::to_string(rep.round) + ": " + std::to_string(arrived.size()) + " of " +
                    std::to_string(m_code->edges()) + " edges delivered within " + std::to_string(static_cast<long long>(ms)) + " ms, " +
                    std::to_string(needed) + " needed (";
    std::vector<Index> silent;
    bool first = true;
    for (Index i = 0; i < m_code->edges(); ++i) {
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

  // --- edge -----------------------------------------------------------------------------------
  serve_report serve_edge() {
    const Index e = m_layout->edge(), m = m_code->workers(e), need = m_code->edge_wait(e);
    const Index C2 = m_code->worker_message_length(e, m_d), C1 = m_code->edge_message_length(m_d);
    MPI_Comm up = m_layout->upper(), down = m_layout->lower();
    const std::string who = "edge " + std::to_string(e);
    serve_report rep;
    struct round_state {
      bool active = false;
      Index r = 0;
      detail::clock::time_point start{};
      matrix<scalar_type> buffers;   // C2 × m, column j = worker j's message
      std::vector<char> got;         // worker j's message of round r arrived
      std::vector<Index> order;      // arrival order
      std::vector<long long> bytes;  // their payload bytes
      std::vector<Index> rejected;   // workers whose message of round r was dropped as malformed
    } cur;
    cur.buffers.resize(C2, m);
    std::vector<char> verified(static_cast<std::size_t>(m), 0);  // 0: no hello yet, 1: same code, 2: another code
    Index late_since_report = 0;
    std::string why;

    auto reject = [&](Index j, const std::string&) {
      ++rep.malformed_messages;
      if (cur.active && std::find(cur.rejected.begin(), cur.rejected.end(), j) == cur.rejected.end()) cur.rejected.push_back(j);
    };
    auto on_worker_message = [&](const incoming& in) {
      const Index j = in.env.source - 1;  // lower rank j + 1 = worker j
      if (j < 0 || j >= m) {
        ++rep.malformed_messages;
        return;
      }
      const auto msg = parse(in, m_worker_limit, why);
      if (!msg) return reject(j, why);
      if (msg->kind == wire::message_kind::hello) {
        verified[static_cast<std::size_t>(j)] = msg->fingerprint == m_fingerprint ? 1 : 2;
        m_out.send(control(wire::message_kind::hello, msg->fingerprint, j), 0, detail::control_tag, up);  // the master names the rank
        return;
      }
      if (msg->kind != wire::message_kind::worker_result) return reject(j, "unexpected kind");
      if (verified[static_cast<std::size_t>(j)] != 1) return reject(j, "no matching hello");
      // A message of the wrong length or scalar type is malformed whatever its round.
      if (msg->scalar_bytes != wire::scalar_code<scalar_type>() || static_cast<Index>(msg->payload_elements()) != C2)
        return reject(j, "wrong length");
      if (msg->round < cur.r || (msg->round == cur.r && !cur.active)) {
        ++rep.late_messages;
        ++late_since_report;
        return;
      }
      if (msg->round > cur.r || cur.got[static_cast<std::size_t>(j)]) return reject(j, "future round or duplicate");
      cur.got[static_cast<std::size_t>(j)] = 1;
      wire::read_payload<scalar_type>(*msg, std::span<scalar_type>(cur.buffers.col(j).data(), static_cast<std::size_t>(C2)), C2, "worker");
      cur.order.push_back(j);
      cur.bytes.push_back(static_cast<long long>(msg->payload.size()));
    };
    auto report = [&](wire::message res, std::span<const scalar_type> payload) {
      res.kind = wire::message_kind::edge_result;
      res.scalar_bytes = wire::scalar_code<scalar_type>();
      res.round = cur.r;
      res.received = static_cast<std::int64_t>(cur.order.size());
      res.needed = need;
      res.elapsed_us = static_cast<std::int64_t>(detail::elapsed_ms(cur.start) * 1000);
      res.late = late_since_report;
      late_since_report = 0;
      res.rejected.assign(cur.rejected.begin(), cur.rejected.end());
      res.payload = wire::payload_of(payload);
      m_out.send(wire::serialise(res), 0, m_tags.tag(cur.r), up);
      cur.active = false;
    };

    auto last_heard = detail::clock::now();
    bool stop = false;
    while (!stop) {
      bool busy = false;
      // From the master: take all that wait, keep the newest round (an edge that fell behind skips).
      std::shared_ptr<const std::vector<std::byte>> newest;
      Index newest_round = -1;
      incoming in;
      while (!stop && next(up, 0, in)) {
        busy = true;
        last_heard = detail::clock::now();
        const auto msg = parse(in, m_downlink_limit, why);
        if (!msg) {
          ++rep.malformed_messages;
          continue;
        }
        switch (msg->kind) {
          case wire::message_kind::stop: stop = true; break;
          case wire::message_kind::hello: {  // answer, and ask the workers
            m_out.send(control(wire::message_kind::hello, m_fingerprint), 0, detail::control_tag, up);
            const auto ask = std::make_shared<const std::vector<std::byte>>(std::move(in.bytes));
            for (Index j = 0; j < m; ++j) m_out.send(ask, static_cast<int>(j + 1), detail::control_tag, down);
            break;
          }
          case wire::message_kind::round_start:
            if (msg->round > newest_round) {
              newest_round = msg->round;
              newest = std::make_shared<const std::vector<std::byte>>(std::move(in.bytes));
            }
            break;
          default: ++rep.malformed_messages; break;
        }
      }
      if (stop) break;
      if (newest) {
        if (cur.active) {
          cur.active = false;
          ++rep.abandoned;
        }
        cur.r = newest_round;
        cur.start = detail::clock::now();
        cur.got.assign(static_cast<std::size_t>(m), 0);
        cur.order.clear();
        cur.bytes.clear();
        cur.rejected.clear();
        if (m_faults.edge_fault(e, cur.r).crashed) {
          ++rep.abandoned;  // a crashed edge neither asks its workers nor replies
        } else {
          for (Index j = 0; j < m; ++j) m_out.send(newest, static_cast<int>(j + 1), m_tags.tag(cur.r), down);
          cur.active = true;
        }
      }
      // From the workers.
      while (next(down, MPI_ANY_SOURCE, in)) {
        busy = true;
        on_worker_message(in);
      }
      if (cur.active && static_cast<Index>(cur.order.size()) >= need) {
        wire::message res;
        vector<scalar_type> out(C1);
        std::vector<Index> bad;
        double amplification = 1;
        try {
          matrix<scalar_type> messages(C2, static_cast<Index>(cur.order.size()));
          for (std::size_t t = 0; t < cur.order.size(); ++t) messages.col(static_cast<Index>(t)) = cur.buffers.col(cur.order[t]);
          decode_report decoded = m_code->edge_decode(e, cur.order, messages, out);
          bad = std::move(decoded.corrupted);
          amplification = decoded.amplification;
        } catch (const not_decodable&) {
          res.status = wire::edge_status::undecodable;
        } catch (const corrupted_result&) {
          res.status = wire::edge_status::corrupted;
        } catch (const invalid_input&) {
          res.status = wire::edge_status::malformed;
        }
        if (res.status == wire::edge_status::ok) {
          res.used.assign(cur.order.begin(), cur.order.end());
          res.used_bytes.assign(cur.bytes.begin(), cur.bytes.end());
          res.corrupted.assign(bad.begin(), bad.end());
          res.amplification = amplification;
          rep.received_bytes.insert(rep.received_bytes.end(), cur.bytes.begin(), cur.bytes.end());
          const node_fault f = m_faults.edge_fault(e, cur.r);
          if (f.delay_ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(f.delay_ms));
          if (f.corruption != 0) out.array() += static_cast<scalar_type>(f.corruption);
          const vector<scalar_type> sent = resized(out, f.length_change);
          report(std::move(res), std::span<const scalar_type>(sent.data(), static_cast<std::size_t>(sent.size())));
          ++rep.rounds;
        } else {
          report(std::move(res), {});
        }
      } else if (cur.active && detail::clock::now() - cur.start >= m_options.edge_wait) {
        ++rep.abandoned;
        wire::message res;
        res.status = wire::edge_status::timed_out;
        report(std::move(res), {});
      }
      m_out.progress();
      if (!busy) {
        if (!cur.active && detail::clock::now() - last_heard > m_options.idle_wait)
          throw transport_error(who + ": no round or stop from the master for " + std::to_string(m_options.idle_wait.count()) + " ms");
        std::this_thread::sleep_for(m_options.poll_interval);
      }
    }
    // Stop travels down; goodbyes come up after each worker's last message.
    const auto bytes = control(wire::message_kind::stop);
    for (Index j = 0; j < m; ++j) m_out.send(bytes, static_cast<int>(j + 1), detail::control_tag, down);
    std::vector<char> bye(static_cast<std::size_t>(m), 0);
    rep.late_messages += await_goodbyes(down, bye, m_worker_limit, who, "worker");
    m_out.send(control(wire::message_kind::goodbye), 0, detail::control_tag, up);
    finish(who);
    return rep;
  }

  // --- worker ---------------------------------------------------------------------------------
  serve_report serve_worker(const worker_function& compute) {
    const worker_id w = m_layout->worker();
    const std::string who = "worker (" + std::to_string(w.edge) + "," + std::to_string(w.worker) + ")";
    MPI_Comm down = m_layout->lower();
    const auto code_parts = m_code->worker_partitions(w);
    const std::vector<Index> parts(code_parts.begin(), code_parts.end());
    const Index C2 = m_code->worker_message_length(w.edge, m_d);
    matrix<scalar_type> held(m_d, static_cast<Index>(parts.size()));
    std::vector<scalar_type> payload;
    serve_report rep;
    std::string why;
    auto last_heard = detail::clock::now();
    while (true) {
      std::optional<std::vector<std::byte>> newest;  // a worker that fell behind skips superseded rounds
      std::int64_t newest_round = -1;
      bool stop = false;
      incoming in;
      while (!stop && next(down, 0, in)) {
        const auto msg = parse(in, m_downlink_limit, why);
        if (!msg) {
          ++rep.malformed_messages;
          continue;
        }
        if (msg->kind == wire::message_kind::stop) {
          stop = true;
        } else if (msg->kind == wire::message_kind::hello) {
          m_out.send(control(wire::message_kind::hello, m_fingerprint), 0, detail::control_tag, down);
        } else if (msg->kind == wire::message_kind::round_start && msg->round > newest_round) {
          newest_round = msg->round;
          newest = std::move(in.bytes);
        } else {
          ++rep.malformed_messages;
        }
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
      const wire::message task = wire::parse(*newest);  // parsed before; this view is into `newest`
      const auto r = static_cast<Index>(task.round);
      if (task.scalar_bytes != wire::scalar_code<scalar_type>()) {  // a master with another scalar type
        ++rep.malformed_messages;
        continue;
      }
      payload.resize(task.payload_elements());
      wire::read_payload<scalar_type>(task, std::span<scalar_type>(payload), static_cast<Index>(payload.size()), "the master");
      const node_fault f = m_faults.worker_fault(w, r, static_cast<double>(parts.size()));
      if (f.crashed) continue;  // never replies
      compute(worker_task<scalar_type>{r, w, payload, parts}, held);
      vector<scalar_type> message(C2);
      m_code->encode_held(w, held, message);
      if (f.delay_ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(f.delay_ms));
      if (f.corruption != 0) message.array() += static_cast<scalar_type>(f.corruption);
      const vector<scalar_type> sent = resized(message, f.length_change);
      wire::message res;
      res.kind = wire::message_kind::worker_result;
      res.scalar_bytes = wire::scalar_code<scalar_type>();
      res.round = r;
      res.payload = wire::payload_of(std::span<const scalar_type>(sent.data(), static_cast<std::size_t>(sent.size())));
      m_out.send(wire::serialise(res), 0, m_tags.tag(r), down);
      ++rep.rounds;
    }
    m_out.send(control(wire::message_kind::goodbye), 0, detail::control_tag, down);
    finish(who);
    return rep;
  }

  // --- shared ---------------------------------------------------------------------------------
  /// `v` with `change` scalars appended (zeros) or removed: an injected wrong-length message.
  static vector<scalar_type> resized(const vector<scalar_type>& v, Index change) {
    if (change == 0) return v;
    vector<scalar_type> out = vector<scalar_type>::Zero(std::max<Index>(0, v.size() + change));
    const Index keep = std::min(v.size(), out.size());
    out.head(keep) = v.head(keep);
    return out;
  }

  /// Waits for every pending send (bounded by shutdown_wait).
  void finish(const std::string& who) {
    if (!m_out.flush(detail::clock::now() + m_options.shutdown_wait, m_options.poll_interval))
      throw transport_error(who + ": " + std::to_string(m_out.pending()) + " sends still pending after " +
                            std::to_string(m_options.shutdown_wait.count()) + " ms of shutdown");
  }

  /// Drains `comm` until every child (rank c + 1 for bye[c]) said goodbye; returns the other
  /// messages dropped meanwhile. Throws transport_error naming the silent children.
  Index await_goodbyes(MPI_Comm comm, std::vector<char>& bye, std::size_t limit, const std::string& who, const char* child) {
    const auto deadline = detail::clock::now() + m_options.shutdown_wait;
    Index late = 0;
    std::string why;
    while (std::count(bye.begin(), bye.end(), 1) < static_cast<std::ptrdiff_t>(bye.size())) {
      incoming in;
      if (next(comm, MPI_ANY_SOURCE, in)) {
        const auto msg = parse(in, limit, why);
        const auto c = static_cast<std::size_t>(in.env.source - 1);
        if (msg && msg->kind == wire::message_kind::goodbye && c < bye.size())
          bye[c] = 1;
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
  const Codec* m_code;
  Index m_d;
  injection_plan m_faults;
  transport_options m_options;
  detail::round_tags m_tags;
  detail::outbox m_out;
  std::uint64_t m_fingerprint = 0;
  std::size_t m_downlink_limit = 0, m_result_limit = 0, m_worker_limit = 0;  // receive bounds per link, bytes
  Index m_round = 0;
  bool m_stopped = false;
  bool m_greeted = false;  // the master's handshake ran
  std::vector<char> m_edge_verified;                   // master: edge i's hello matched
  std::vector<std::vector<char>> m_worker_verified;    // master: worker (i,j)'s hello matched
  std::optional<code_mismatch> m_mismatch;             // master: once found, every round() throws it
};

}  // namespace gradcode::mpi
