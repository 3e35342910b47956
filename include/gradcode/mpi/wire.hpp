// SPDX-License-Identifier: MIT
// The bytes of the MPI tree protocol (issue 13, items 3(d) and 5): every message a rank of
// mpi/tree_runner.hpp sends or receives — start-up hello, round broadcast, worker and edge results,
// stop, goodbye — in one self-describing layout, parsed by a pure function that needs no MPI
// (this header does not include mpi.h), so the receive path can be fuzzed (tests/fuzz/mpi_wire_fuzz.cpp).
//
// Layout (host byte order; ranks of one job share it, and a rank of the other byte order is
// recognised by its byte-swapped magic):
//   offset  0  u32  magic 0x31574347 ("GCW1" on little-endian hosts)
//           4  u8   kind (message_kind)
//           5  u8   scalar bytes of the payload: 4 (float) or 8 (double); 0 for kinds without one
//           6  u8   status (edge_status; edge_result only, else 0)
//           7  u8   reserved, 0
//           8  i64  round (>= 0; 0 for hello, stop, goodbye)
//          16  i64  W, number of 8-byte body words
//          24  i64  P, number of payload scalars
//          32       W body words, then P scalars; nothing after them
//   body   hello:       fingerprint (u64), node (-1: the sender; j >= 0: forwarded for worker j)
//          edge_result: received, needed, elapsed µs, late, u, u used worker ids, their payload
//                       bytes, c, c corrupted ids, q, q rejected ids, amplification (a double's bits)
//          others:      empty
// parse() accepts exactly the buffers serialise() produces: a parsed message re-serialises to the
// same bytes, and every other buffer is a gradcode::invalid_input saying which field is wrong.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode::mpi::wire {

enum class message_kind : std::uint8_t {
  hello = 1,          ///< start-up: the sender's code fingerprint (master → edges → workers, answers up)
  round_start = 2,    ///< the master's broadcast of a round (master → edges → workers)
  worker_result = 3,  ///< a worker's coded message of a round (worker → edge)
  edge_result = 4,    ///< an edge's decode (or why it failed) with its counts (edge → master)
  stop = 5,           ///< end of the run (downward)
  goodbye = 6,        ///< last message of a rank (upward)
};

/// How an edge's round ended.
enum class edge_status : std::uint8_t { ok = 0, timed_out = 1, undecodable = 2, corrupted = 3, malformed = 4 };

inline constexpr std::uint32_t magic = 0x31574347u;
inline constexpr std::size_t header_bytes = 32;

/// One message. `payload` is a view: into the parsed buffer after parse(), into the caller's data
/// before serialise(); it must outlive the message's use.
struct message {
  message_kind kind = message_kind::stop;
  std::uint8_t scalar_bytes = 0;         ///< 4 or 8 for round_start, worker_result, edge_result; else 0
  edge_status status = edge_status::ok;  ///< edge_result only
  std::int64_t round = 0;                ///< >= 0; 0 for hello, stop, goodbye
  // hello
  std::uint64_t fingerprint = 0;  ///< the sender's code fingerprint (mpi/fingerprint.hpp)
  std::int64_t node = -1;         ///< -1: the sender's own; j >= 0: an edge forwarding worker j's
  // edge_result
  std::int64_t received = 0;               ///< worker messages that arrived for the round
  std::int64_t needed = 0;                 ///< worker messages the edge waits for
  std::int64_t elapsed_us = 0;             ///< from the round reaching the edge to this report
  std::int64_t late = 0;                   ///< worker messages of earlier rounds dropped since the last report
  std::vector<std::int64_t> used{};        ///< workers decoded from, arrival order
  std::vector<std::int64_t> used_bytes{};  ///< payload bytes of each of those messages
  std::vector<std::int64_t> corrupted{};   ///< workers the decoder located and excluded
  std::vector<std::int64_t> rejected{};    ///< workers whose message of this round was dropped as malformed
  double amplification = 1;                ///< rounding amplification of the edge's decode (finite, >= 0)
  // round_start, worker_result, edge_result
  std::span<const std::byte> payload{};  ///< scalar_bytes × elements

  std::size_t payload_elements() const noexcept { return scalar_bytes ? payload.size() / scalar_bytes : 0; }
};

/// The scalar_bytes field for Scalar.
template <class Scalar>
constexpr std::uint8_t scalar_code() noexcept {
  static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>, "the MPI wire carries float or double");
  return static_cast<std::uint8_t>(sizeof(Scalar));
}

namespace detail {

inline bool has_payload(message_kind k) noexcept {
  return k == message_kind::round_start || k == message_kind::worker_result || k == message_kind::edge_result;
}
inline bool known(message_kind k) noexcept { return static_cast<std::uint8_t>(k) >= 1 && static_cast<std::uint8_t>(k) <= 6; }
inline const char* name(message_kind k) noexcept {
  switch (k) {
    case message_kind::hello:
      return "hello";
    case message_kind::round_start:
      return "round_start";
    case message_kind::worker_result:
      return "worker_result";
    case message_kind::edge_result:
      return "edge_result";
    case message_kind::stop:
      return "stop";
    case message_kind::goodbye:
      return "goodbye";
  }
  return "unknown";
}

[[noreturn]] inline void fail(const std::string& what) { throw invalid_input("mpi wire: " + what); }

/// Body words of m (assumes check() passed, so the sums cannot overflow).
inline std::int64_t body_words(const message& m) noexcept {
  switch (m.kind) {
    case message_kind::hello:
      return 2;
    case message_kind::edge_result:
      return 8 + static_cast<std::int64_t>(2 * m.used.size() + m.corrupted.size() + m.rejected.size());
    default:
      return 0;
  }
}

inline void non_negative(std::int64_t v, const char* field) {
  if (v < 0) fail(std::string(field) + " = " + std::to_string(v) + " is negative");
}
inline void ids(const std::vector<std::int64_t>& v, const char* field) {
  for (std::int64_t id : v)
    if (id < 0) fail(std::string("a ") + field + " id is " + std::to_string(id));
}

/// The rules every message obeys, shared by parse() and serialise(). Throws invalid_input.
inline void check(const message& m) {
  if (!known(m.kind)) fail("unknown message kind " + std::to_string(static_cast<unsigned>(m.kind)));
  const char* k = name(m.kind);
  if (has_payload(m.kind)) {
    if (m.scalar_bytes != 4 && m.scalar_bytes != 8)
      fail(std::string(k) + " has scalar size " + std::to_string(m.scalar_bytes) + " bytes; 4 (float) or 8 (double) expected");
    if (m.payload.size() % m.scalar_bytes != 0)
      fail(std::string(k) + " payload of " + std::to_string(m.payload.size()) + " bytes is not a whole number of " +
           std::to_string(m.scalar_bytes) + "-byte scalars");
  } else {
    if (m.scalar_bytes != 0)
      fail(std::string(k) + " has scalar size " + std::to_string(m.scalar_bytes) + "; it carries no payload");
    if (!m.payload.empty()) fail(std::string(k) + " carries a payload of " + std::to_string(m.payload.size()) + " bytes");
  }
  const auto status = static_cast<std::uint8_t>(m.status);
  if (m.kind == message_kind::edge_result ? status > 4 : status != 0)
    fail(std::string(k) + " has status " + std::to_string(status));
  non_negative(m.round, "round");
  if (!has_payload(m.kind) && m.round != 0) fail(std::string(k) + " has round " + std::to_string(m.round) + "; 0 expected");
  if (m.kind == message_kind::hello && m.node < -1) fail("hello for node " + std::to_string(m.node));
  if (m.kind == message_kind::edge_result) {
    non_negative(m.received, "received");
    non_negative(m.needed, "needed");
    non_negative(m.elapsed_us, "elapsed_us");
    non_negative(m.late, "late");
    if (m.used.size() != m.used_bytes.size())
      fail(std::to_string(m.used.size()) + " used workers but " + std::to_string(m.used_bytes.size()) + " message sizes");
    ids(m.used, "used worker");
    ids(m.corrupted, "corrupted worker");
    ids(m.rejected, "rejected worker");
    for (std::int64_t b : m.used_bytes) non_negative(b, "a used message's bytes");
    if (!std::isfinite(m.amplification) || m.amplification < 0)
      fail("amplification " + gradcode::detail::format_g(m.amplification) + " must be finite and >= 0");
    if (m.status != edge_status::ok && !m.payload.empty()) fail("a failed edge_result carries a payload");
  }
}

inline std::int64_t load64(const std::byte* p) noexcept {
  std::int64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store64(std::byte*& p, std::int64_t v) noexcept {
  std::memcpy(p, &v, sizeof v);
  p += sizeof v;
}

}  // namespace detail

/// Bytes serialise(m) produces. Throws like serialise.
inline std::size_t serialised_size(const message& m) {
  detail::check(m);
  return header_bytes + 8 * static_cast<std::size_t>(detail::body_words(m)) + m.payload.size();
}

/// The bytes of `m`. Throws invalid_input when m breaks a rule of the layout (parse would refuse it).
inline std::vector<std::byte> serialise(const message& m) {
  std::vector<std::byte> out(serialised_size(m));
  std::byte* p = out.data();
  std::memcpy(p, &magic, sizeof magic);
  p[4] = static_cast<std::byte>(m.kind);
  p[5] = static_cast<std::byte>(m.scalar_bytes);
  p[6] = static_cast<std::byte>(m.status);
  p[7] = std::byte{0};
  p += 8;
  detail::store64(p, m.round);
  detail::store64(p, detail::body_words(m));
  detail::store64(p, static_cast<std::int64_t>(m.payload_elements()));
  if (m.kind == message_kind::hello) {
    detail::store64(p, std::bit_cast<std::int64_t>(m.fingerprint));
    detail::store64(p, m.node);
  } else if (m.kind == message_kind::edge_result) {
    for (std::int64_t v : {m.received, m.needed, m.elapsed_us, m.late, static_cast<std::int64_t>(m.used.size())})
      detail::store64(p, v);
    for (std::int64_t v : m.used) detail::store64(p, v);
    for (std::int64_t v : m.used_bytes) detail::store64(p, v);
    detail::store64(p, static_cast<std::int64_t>(m.corrupted.size()));
    for (std::int64_t v : m.corrupted) detail::store64(p, v);
    detail::store64(p, static_cast<std::int64_t>(m.rejected.size()));
    for (std::int64_t v : m.rejected) detail::store64(p, v);
    detail::store64(p, std::bit_cast<std::int64_t>(m.amplification));
  }
  if (!m.payload.empty()) std::memcpy(p, m.payload.data(), m.payload.size());
  return out;
}

/// Parses one received buffer. Reads only inside `bytes`; allocates at most the id lists, whose
/// lengths are checked against the bytes present first. The result's payload views `bytes`.
/// Throws invalid_input ("gradcode::invalid_input: mpi wire: …") naming the field that is wrong.
inline message parse(std::span<const std::byte> bytes) {
  using detail::fail;
  if (bytes.size() < header_bytes)
    fail("a message of " + std::to_string(bytes.size()) + " bytes is shorter than the " + std::to_string(header_bytes) +
         "-byte header");
  const std::byte* p = bytes.data();
  std::uint32_t got_magic;
  std::memcpy(&got_magic, p, sizeof got_magic);
  if (got_magic != magic) {
    const bool swapped = got_magic == ((magic >> 24) | ((magic >> 8) & 0xff00u) | ((magic << 8) & 0xff0000u) | (magic << 24));
    fail(swapped ? std::string("the sender has the other byte order")
                 : "not a gradcode message (magic " + std::to_string(got_magic) + ", " + std::to_string(magic) + " expected)");
  }
  message m;
  m.kind = static_cast<message_kind>(p[4]);
  m.scalar_bytes = static_cast<std::uint8_t>(p[5]);
  m.status = static_cast<edge_status>(p[6]);
  if (p[7] != std::byte{0}) fail("reserved header byte is " + std::to_string(static_cast<unsigned>(p[7])) + "; 0 expected");
  if (!detail::known(m.kind)) fail("unknown message kind " + std::to_string(static_cast<unsigned>(m.kind)));
  m.round = detail::load64(p + 8);
  const std::int64_t words = detail::load64(p + 16), elements = detail::load64(p + 24);
  const std::size_t rest = bytes.size() - header_bytes;
  if (words < 0 || static_cast<std::uint64_t>(words) > rest / 8)
    fail("header announces " + std::to_string(words) + " body words, " + std::to_string(rest) + " bytes follow the header");
  const std::size_t payload_bytes = rest - 8 * static_cast<std::size_t>(words);
  const std::size_t scalar = m.scalar_bytes;
  if (elements < 0 ||
      (scalar == 0 ? (elements != 0 || payload_bytes != 0)
                   : (payload_bytes % scalar != 0 || static_cast<std::uint64_t>(elements) != payload_bytes / scalar)))
    fail("header announces " + std::to_string(elements) + " payload scalars of " + std::to_string(scalar) + " bytes, " +
         std::to_string(payload_bytes) + " bytes follow the body");
  m.payload = bytes.subspan(header_bytes + 8 * static_cast<std::size_t>(words));

  // Body: a reader that never passes the announced words.
  const std::byte* body = p + header_bytes;
  std::int64_t at = 0;
  auto take = [&]() -> std::int64_t {
    if (at >= words) fail(std::string(detail::name(m.kind)) + " body ends after " + std::to_string(words) + " words");
    return detail::load64(body + 8 * at++);
  };
  auto list = [&](std::vector<std::int64_t>& v, std::int64_t count, std::int64_t per_item, const char* what) {
    if (count < 0 || count > (words - at) / per_item)
      fail(std::string(what) + " count " + std::to_string(count) + " exceeds the " + std::to_string(words - at) +
           " body words left");
    v.resize(static_cast<std::size_t>(count));
    for (auto& x : v) x = take();
  };
  if (m.kind == message_kind::hello) {
    m.fingerprint = std::bit_cast<std::uint64_t>(take());
    m.node = take();
  } else if (m.kind == message_kind::edge_result) {
    m.received = take();
    m.needed = take();
    m.elapsed_us = take();
    m.late = take();
    const std::int64_t used = take();
    list(m.used, used, 2, "used worker");
    list(m.used_bytes, used, 1, "used message size");
    list(m.corrupted, take(), 1, "corrupted worker");
    list(m.rejected, take(), 1, "rejected worker");
    m.amplification = std::bit_cast<double>(take());
  }
  if (at != words)
    fail(std::string(detail::name(m.kind)) + " body has " + std::to_string(words) + " words, its fields take " +
         std::to_string(at));
  detail::check(m);
  return m;
}

/// Edge-result fields the master relies on, against edge i's m_i workers: every id in [0, m_i),
/// the used ids distinct, the counts at most m_i. Throws invalid_input naming the edge.
inline void validate_edge_result(const message& m, Index edge, Index workers) {
  const std::string who = "mpi wire: edge " + std::to_string(edge) + ": ";
  auto in_range = [&](const std::vector<std::int64_t>& v, const char* what) {
    for (std::int64_t id : v)
      if (id < 0 || id >= workers)
        throw invalid_input(who + what + " worker " + std::to_string(id) + " of " + std::to_string(workers), edge);
  };
  in_range(m.used, "used");
  in_range(m.corrupted, "corrupted");
  in_range(m.rejected, "rejected");
  std::vector<char> seen(static_cast<std::size_t>(workers > 0 ? workers : 0), 0);
  for (std::int64_t id : m.used)
    if (seen[static_cast<std::size_t>(id)]++) throw invalid_input(who + "used worker " + std::to_string(id) + " twice", edge);
  if (m.received > workers || m.needed > workers)
    throw invalid_input(who + std::to_string(m.received) + " received / " + std::to_string(m.needed) + " needed of " +
                            std::to_string(workers) + " workers",
                        edge);
}

/// Copies m's payload into `out` as Scalar. Throws invalid_input naming `sender` when the
/// payload's scalar type or its length (`expected` scalars) differ.
template <class Scalar>
void read_payload(const message& m, std::span<Scalar> out, Index expected, const std::string& sender) {
  if (m.scalar_bytes != scalar_code<Scalar>())
    throw invalid_input("mpi wire: " + sender + " sent " + std::to_string(m.scalar_bytes) + "-byte scalars, " +
                        std::to_string(sizeof(Scalar)) + "-byte expected");
  if (static_cast<Index>(m.payload_elements()) != expected)
    throw invalid_input("mpi wire: " + sender + " sent " + std::to_string(m.payload_elements()) + " scalars, " +
                        std::to_string(expected) + " expected");
  if (static_cast<Index>(out.size()) != expected)
    throw invalid_input("mpi wire: read_payload: out has " + std::to_string(out.size()) + " scalars, " +
                        std::to_string(expected) + " expected");
  if (!m.payload.empty()) std::memcpy(out.data(), m.payload.data(), m.payload.size());
}

/// The payload view of `values` for a message.
template <class Scalar>
std::span<const std::byte> payload_of(std::span<const Scalar> values) noexcept {
  return std::as_bytes(values);
}

}  // namespace gradcode::mpi::wire
