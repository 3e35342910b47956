// SPDX-License-Identifier: MIT
// Message layer of the MPI runners (issue 8 item 2, issue 13 item 5): round tags (a message
// carries its round in its tag as well as in its wire header, mpi/wire.hpp), an outbox that keeps
// send buffers alive until MPI is done with them, and probe/receive helpers that bound every wait.
#pragma once

#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gradcode/core/types.hpp"
#include "gradcode/mpi/errors.hpp"

namespace gradcode::mpi {

/// How long each wait may take and how often a waiting rank polls. Every wait of the protocol has
/// one of these deadlines; none blocks forever.
struct transport_options {
  /// An edge gives up on a round (and tells the master how many workers replied) this long after
  /// the round reached it. Keep it below master_wait so the master can report the edge's counts.
  std::chrono::milliseconds edge_wait{5000};
  /// The master throws not_decodable when too few edges replied within this time.
  std::chrono::milliseconds master_wait{10000};
  /// Edges and workers throw transport_error when no round or stop arrives for this long.
  std::chrono::milliseconds idle_wait{600000};
  /// Bound on the stop handshake (late replies are drained, every rank says goodbye).
  std::chrono::milliseconds shutdown_wait{60000};
  /// Sleep between polls of a waiting rank: a few hundred µs keeps 13 ranks on 2 cores usable
  /// (MPI's own blocking waits spin) at a latency cost of about one interval per hop.
  std::chrono::microseconds poll_interval{200};
  /// The master's first round waits this long for every edge's and worker's hello (code
  /// fingerprint). Ranks that answer later are still checked when their hello arrives; their
  /// messages are dropped until then.
  std::chrono::milliseconds handshake_wait{10000};
  /// Largest broadcast round() sends, and so the largest downlink an edge or worker receives.
  std::size_t max_broadcast_bytes = std::size_t{1} << 30;
};

namespace detail {

using clock = std::chrono::steady_clock;

/// Tag layout: 0 = control (hello, stop, goodbye); a round's messages (broadcast, results) use
/// 1 + (round mod P), P = MPI_TAG_UB. The wire header carries the full round, so a message P
/// rounds late is still recognised as late.
constexpr int control_tag = 0;

class round_tags {
 public:
  explicit round_tags(int tag_bound) : m_period(tag_bound > 1 ? tag_bound : 1) {}
  int tag(Index round) const noexcept { return static_cast<int>(1 + static_cast<long long>(round) % m_period); }

 private:
  long long m_period;
};

/// Nonblocking sends whose buffers live until MPI has finished with them (a late edge or a
/// sleeping worker may take its time to match a send).
class outbox {
 public:
  outbox() = default;
  outbox(const outbox&) = delete;
  outbox& operator=(const outbox&) = delete;

  /// Sends `count` elements of `type` from `data` (kept alive by `owner`) to `dest` with `tag`.
  void send(std::shared_ptr<const void> owner, const void* data, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm) {
    MPI_Request request;
    check(MPI_Isend(data, count, type, dest, tag, comm, &request), "MPI_Isend");
    m_pending.push_back({request, std::move(owner)});
  }
  /// Sends a serialised message.
  void send(std::vector<std::byte> bytes, int dest, int tag, MPI_Comm comm) {
    send(std::make_shared<const std::vector<std::byte>>(std::move(bytes)), dest, tag, comm);
  }
  /// Sends one buffer to several ranks without copying it. Throws transport_error above 2^31 − 1
  /// bytes (MPI counts are int).
  void send(const std::shared_ptr<const std::vector<std::byte>>& bytes, int dest, int tag, MPI_Comm comm) {
    if (bytes->size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
      throw transport_error("a message of " + std::to_string(bytes->size()) + " bytes exceeds MPI's int count");
    send(bytes, bytes->data(), static_cast<int>(bytes->size()), MPI_BYTE, dest, tag, comm);
  }

  /// Completes what has finished; returns the number still pending.
  std::size_t progress() {
    for (std::size_t i = 0; i < m_pending.size();) {
      int done = 0;
      check(MPI_Test(&m_pending[i].request, &done, MPI_STATUS_IGNORE), "MPI_Test (send)");
      if (done) {
        m_pending[i] = std::move(m_pending.back());
        m_pending.pop_back();
      } else {
        ++i;
      }
    }
    return m_pending.size();
  }
  /// Polls until every send completed or `deadline`; false on timeout.
  bool flush(clock::time_point deadline, std::chrono::microseconds poll) {
    while (progress() > 0) {
      if (clock::now() >= deadline) return false;
      std::this_thread::sleep_for(poll);
    }
    return true;
  }
  std::size_t pending() const noexcept { return m_pending.size(); }

 private:
  struct entry {
    MPI_Request request;
    std::shared_ptr<const void> owner;
  };
  std::vector<entry> m_pending;
};

/// A message found by probe(): its source, tag and size in bytes.
struct envelope {
  int source = -1, tag = -1, bytes = 0;
};

/// Nonblocking probe for an unmatched message (posted receives take matching messages first, so
/// this sees only what no receive of the current round wants).
inline bool probe(MPI_Comm comm, int source, envelope& e) {
  int flag = 0;
  MPI_Status status;
  check(MPI_Iprobe(source, MPI_ANY_TAG, comm, &flag, &status), "MPI_Iprobe");
  if (!flag) return false;
  e.source = status.MPI_SOURCE, e.tag = status.MPI_TAG;
  check(MPI_Get_count(&status, MPI_BYTE, &e.bytes), "MPI_Get_count");
  return true;
}

/// Receives the probed message as bytes. The allocation is the size MPI reports for the message
/// in flight (what the sender really sent), never a length read from a header; the runners
/// refuse a message above their link's bound before parsing it. (A truncating receive would
/// avoid even that allocation, but Open MPI 4.1's shared-memory single-copy path writes past the
/// buffer of a truncated rendezvous receive.)
inline std::vector<std::byte> receive_bytes(MPI_Comm comm, const envelope& e) {
  std::vector<std::byte> buffer(static_cast<std::size_t>(e.bytes > 0 ? e.bytes : 0));
  check(MPI_Recv(buffer.data(), e.bytes, MPI_BYTE, e.source, e.tag, comm, MPI_STATUS_IGNORE), "MPI_Recv");
  return buffer;
}

/// Milliseconds since `start`.
inline double elapsed_ms(clock::time_point start) {
  return std::chrono::duration<double, std::milli>(clock::now() - start).count();
}

}  // namespace detail
}  // namespace gradcode::mpi
