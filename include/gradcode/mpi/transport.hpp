// SPDX-License-Identifier: MIT
// Message layer of the MPI runners (issue 8, item 2): round tags (a message carries its round in
// its tag, so a late reply never matches a newer round's receive), an outbox that keeps send
// buffers alive until MPI is done with them, and probe/drain helpers that bound every wait.
#pragma once

#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <type_traits>
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
};

namespace detail {

using clock = std::chrono::steady_clock;

template <class Scalar>
MPI_Datatype datatype() {
  static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>, "MPI runners carry float or double");
  if constexpr (std::is_same_v<Scalar, float>)
    return MPI_FLOAT;
  else
    return MPI_DOUBLE;
}

/// Tag layout: 0 = control (stop downward, goodbye upward); a round's messages use
/// 1 + 2·(round mod P) + kind with kind 0 = data (downlink broadcast / uplink result) and 1 = info
/// (an edge's status, counts and sizes). P is as large as MPI_TAG_UB allows, so a reply would have
/// to be P rounds late to alias.
enum class kind : int { data = 0, info = 1 };
constexpr int control_tag = 0;

class round_tags {
 public:
  explicit round_tags(int tag_bound) : m_period((static_cast<long long>(tag_bound) - 1) / 2) {}
  int tag(Index round, kind k) const noexcept {
    return static_cast<int>(1 + 2 * (static_cast<long long>(round) % m_period) + static_cast<int>(k));
  }

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
  /// Empty message (control).
  void send_empty(int dest, int tag, MPI_Comm comm) { send(nullptr, nullptr, 0, MPI_BYTE, dest, tag, comm); }

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

/// Receives the probed message as bytes.
inline std::vector<std::byte> receive_bytes(MPI_Comm comm, const envelope& e) {
  std::vector<std::byte> buffer(static_cast<std::size_t>(e.bytes));
  check(MPI_Recv(buffer.data(), e.bytes, MPI_BYTE, e.source, e.tag, comm, MPI_STATUS_IGNORE), "MPI_Recv");
  return buffer;
}

/// Cancels a posted receive. Returns true when it had already matched a message (the receive
/// then completed normally and the message was consumed), false when it was cancelled.
inline bool cancel_receive(MPI_Request& request) {
  if (request == MPI_REQUEST_NULL) return false;
  check(MPI_Cancel(&request), "MPI_Cancel");
  MPI_Status status;
  check(MPI_Wait(&request, &status), "MPI_Wait (cancelled receive)");
  int cancelled = 0;
  check(MPI_Test_cancelled(&status, &cancelled), "MPI_Test_cancelled");
  return !cancelled;
}

/// Milliseconds since `start`.
inline double elapsed_ms(clock::time_point start) {
  return std::chrono::duration<double, std::milli>(clock::now() - start).count();
}

}  // namespace detail
}  // namespace gradcode::mpi
