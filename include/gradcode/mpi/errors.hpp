// SPDX-License-Identifier: MIT
// The MPI layer's own errors (issues 8, 13): a transport that could not finish in its bounded
// wait (idle worker, shutdown handshake) or an MPI call that returned an error code; a rank that
// built a different code than the master. Decoding failures stay gradcode::not_decodable /
// corrupted_result (core/errors.hpp).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "gradcode/core/errors.hpp"

namespace gradcode::mpi {

/// An MPI call failed (only seen when the communicator's error handler returns codes) or a
/// protocol wait ran past its deadline outside a decoding round. The message names the rank's
/// role and what was awaited.
class transport_error : public std::runtime_error {
 public:
  explicit transport_error(const std::string& what) : std::runtime_error("gradcode::mpi::transport_error: " + what) {}
};

/// A rank's code fingerprint (mpi/fingerprint.hpp) differs from the master's: it built another
/// code, scalar type or d. Thrown by the master's round() before the round is sent (at start-up
/// for every rank that answered the hello in time). `rank()` is the rank in the parent
/// communicator; the message also names its role.
class code_mismatch : public invalid_parameters {
 public:
  code_mismatch(const std::string& what, int rank, std::uint64_t expected, std::uint64_t received)
      : invalid_parameters(what), m_rank(rank), m_expected(expected), m_received(received) {}
  int rank() const noexcept { return m_rank; }
  std::uint64_t expected() const noexcept { return m_expected; }  ///< the master's fingerprint
  std::uint64_t received() const noexcept { return m_received; }  ///< the rank's

 private:
  int m_rank;
  std::uint64_t m_expected, m_received;
};

namespace detail {
/// Throws transport_error when an MPI call did not return MPI_SUCCESS.
inline void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw transport_error(std::string(call) + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}
}  // namespace detail

}  // namespace gradcode::mpi
