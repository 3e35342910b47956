// SPDX-License-Identifier: MIT
// The MPI layer's own error (issue 8): a transport that could not finish in its bounded wait
// (idle worker, shutdown handshake) or an MPI call that returned an error code. Decoding
// failures stay gradcode::not_decodable / corrupted_result (core/errors.hpp).
#pragma once

#include <mpi.h>

#include <stdexcept>
#include <string>

namespace gradcode::mpi {

/// An MPI call failed (only seen when the communicator's error handler returns codes) or a
/// protocol wait ran past its deadline outside a decoding round. The message names the rank's
/// role and what was awaited.
class transport_error : public std::runtime_error {
 public:
  explicit transport_error(const std::string& what) : std::runtime_error("gradcode::mpi::transport_error: " + what) {}
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
