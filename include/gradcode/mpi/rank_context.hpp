// SPDX-License-Identifier: MIT
// What the three roles of a tree_runner run (master_role.hpp, edge_role.hpp, worker_role.hpp)
// share on one rank: the code, d, faults and waits, the receive bound of each link, the outbox,
// and the receive / parse / control-message / shutdown steps every role's state machine uses.
#pragma once

#include <mpi.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gradcode/core/codec.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/mpi/code_fingerprint.hpp"
#include "gradcode/mpi/errors.hpp"
#include "gradcode/mpi/injection.hpp"
#include "gradcode/mpi/topology.hpp"
#include "gradcode/mpi/transport.hpp"
#include "gradcode/mpi/wire.hpp"

namespace gradcode::mpi::detail {

/// A received message: its envelope and its bytes.
struct incoming {
  envelope env;
  std::vector<std::byte> bytes;
};

/// One rank's share of a run: built by tree_runner's constructor on every rank, read by the role
/// this rank plays. Not copyable (the outbox owns the buffers of sends in flight).
template <gradcode::hierarchical_codec Codec>
struct rank_context {
  using scalar_type = typename Codec::scalar_type;

  /// Throws as tree_runner's constructor documents (invalid_parameters on a shape that differs
  /// from the topology's, d < 1, a fault naming a missing node, edge_wait >= master_wait, or
  /// messages beyond MPI's int count).
  rank_context(const topology& layout_, const Codec& code_, Index dimension, injection_plan faults_, transport_options options_)
      : layout(&layout_), code(&code_), d(dimension), faults(std::move(faults_)), options(options_), tags(layout_.tag_bound()) {
    if (dimension < 1) throw invalid_parameters("mpi runner: d = " + std::to_string(dimension) + "; need d >= 1");
    if (code->edges() != layout->edges())
      throw invalid_parameters("mpi runner: the code has " + std::to_string(code->edges()) + " edges, the topology " +
                               std::to_string(layout->edges()));
    for (Index i = 0; i < layout->edges(); ++i)
      if (code->workers(i) != layout->workers(i))
        throw invalid_parameters("mpi runner: edge " + std::to_string(i) + " has " + std::to_string(code->workers(i)) +
                                 " workers in the code, " + std::to_string(layout->workers(i)) + " in the topology");
    if (!(options.edge_wait < options.master_wait))
      throw invalid_parameters("mpi runner: edge_wait (" + std::to_string(options.edge_wait.count()) +
                               " ms) must be below master_wait (" + std::to_string(options.master_wait.count()) +
                               " ms) so the master hears why an edge failed");
    if (options.poll_interval.count() < 0) throw invalid_parameters("mpi runner: negative poll interval");
    if (options.handshake_wait.count() < 0) throw invalid_parameters("mpi runner: negative handshake_wait");
    faults.bind(layout->workers_per_edge());
    code_id = code_fingerprint(*code, d);
    // Receive bounds (bytes): the largest honest message on each link. Every message must fit
    // MPI's int count of bytes: checked on lengths (by division, so nothing overflows) first.
    const std::size_t scalar = sizeof(scalar_type), hello_body = 16;
    Index most_workers = 0;
    for (Index i = 0; i < layout->edges(); ++i) most_workers = std::max(most_workers, layout->workers(i));
    const std::size_t framing = wire::header_bytes + 8 * static_cast<std::size_t>(8 + 4 * most_workers);
    const std::size_t room = static_cast<std::size_t>(std::numeric_limits<int>::max()) - framing;
    auto fits = [&](Index scalars) { return scalars >= 0 && static_cast<std::size_t>(scalars) <= room / scalar; };
    bool ok = fits(code->edge_message_length(d)) && options.max_broadcast_bytes <= room;
    for (Index i = 0; i < layout->edges(); ++i) ok = ok && fits(code->worker_message_length(i, d));
    if (!ok)
      throw invalid_parameters(
          "mpi runner: messages of C1 = " + std::to_string(code->edge_message_length(d)) +
          " scalars (or a worker message, or max_broadcast_bytes = " + std::to_string(options.max_broadcast_bytes) +
          ") do not fit MPI's int count of " + std::to_string(room) + " payload bytes; split the gradient");
    downlink_limit = wire::header_bytes + std::max(hello_body, options.max_broadcast_bytes);
    result_limit = framing + std::max(hello_body, static_cast<std::size_t>(code->edge_message_length(d)) * scalar);
    if (layout->my_role() == role::edge || layout->my_role() == role::worker)
      worker_limit = wire::header_bytes +
                     std::max(hello_body, static_cast<std::size_t>(code->worker_message_length(layout->edge(), d)) * scalar);
  }
  rank_context(const rank_context&) = delete;
  rank_context& operator=(const rank_context&) = delete;

  /// Takes the next unmatched message on `comm` from `source`, if any.
  bool next(MPI_Comm comm, int source, incoming& in) {
    if (!probe(comm, source, in.env)) return false;
    in.bytes = receive_bytes(comm, in.env);
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
      const int tag = round_message ? tags.tag(static_cast<Index>(m.round)) : control_tag;
      if (in.env.tag != tag) {
        why = std::string("a ") + wire::detail::name(m.kind) + " on tag " + std::to_string(in.env.tag) + ", " +
              std::to_string(tag) + " expected";
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
    if (!out.flush(clock::now() + options.shutdown_wait, options.poll_interval))
      throw transport_error(who + ": " + std::to_string(out.pending()) + " sends still pending after " +
                            std::to_string(options.shutdown_wait.count()) + " ms of shutdown");
  }

  /// Drains `comm` until every child (rank c + 1 for bye[c]) said goodbye; returns the other
  /// messages dropped meanwhile. Throws transport_error naming the silent children.
  Index await_goodbyes(MPI_Comm comm, std::vector<char>& bye, std::size_t limit, const std::string& who, const char* child) {
    const auto deadline = clock::now() + options.shutdown_wait;
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
      if (clock::now() >= deadline) {
        std::string missing;
        for (std::size_t c = 0; c < bye.size(); ++c)
          if (!bye[c]) missing += (missing.empty() ? "" : ", ") + std::to_string(c);
        throw transport_error(who + ": stop: no goodbye from " + child + " " + missing + " within " +
                              std::to_string(options.shutdown_wait.count()) + " ms");
      }
      out.progress();
      std::this_thread::sleep_for(options.poll_interval);
    }
    if (!out.flush(deadline, options.poll_interval))
      throw transport_error(who + ": " + std::to_string(out.pending()) + " sends still pending after the stop handshake");
    return late;
  }

  const topology* layout;
  const Codec* code;
  Index d;  ///< the gradient length
  injection_plan faults;
  transport_options options;
  round_tags tags;
  outbox out;
  std::uint64_t code_id = 0;                                           ///< this rank's code_fingerprint
  std::size_t downlink_limit = 0, result_limit = 0, worker_limit = 0;  ///< receive bound per link, bytes
};

}  // namespace gradcode::mpi::detail
