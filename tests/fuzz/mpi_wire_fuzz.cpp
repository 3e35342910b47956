// SPDX-License-Identifier: MIT
// tests/fuzz/mpi_wire_fuzz.cpp: the bytes an MPI rank receives (issue 13, item 3(d)) — the tree
// runner's parsing of wire headers and payloads (include/gradcode/mpi/wire.hpp), a pure function
// that needs no MPI. Property: any bytes either parse to a message that re-serialises to exactly
// the same bytes, or are refused with gradcode::invalid_input; the checks the runner applies on
// top (edge-result ids against m_i, payload scalar type and length) also end in a parsed value or
// invalid_input. Never a crash, UB, an over-read or another exception. Seeds: corpus/mpi_wire/
// (one of every message kind, as the runner sends them, and a few near misses).
// fuzz-claim: any bytes an MPI rank receives parse to invalid_input or to a message that re-serialises to the same bytes
// fuzz-max-len: 4096
#include <gradcode/mpi/wire.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "\n==gradcode-fuzz== property violated in mpi_wire_fuzz: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

template <class Scalar>
void read_as(const gradcode::mpi::wire::message& m) {
  namespace wire = gradcode::mpi::wire;
  const auto elements = static_cast<gradcode::Index>(m.payload_elements());
  std::vector<Scalar> out(m.scalar_bytes == wire::scalar_code<Scalar>() ? m.payload_elements() : 0);
  try {
    wire::read_payload<Scalar>(m, std::span<Scalar>(out), elements, "the fuzzer");
  } catch (const gradcode::invalid_input&) {
    if (m.scalar_bytes == wire::scalar_code<Scalar>())
      violated("read_payload refused a payload of its own scalar type and length");
    return;
  }
  if (m.scalar_bytes != wire::scalar_code<Scalar>()) violated("read_payload accepted another scalar type");
  if (!out.empty() && std::memcmp(out.data(), m.payload.data(), m.payload.size()) != 0)
    violated("read_payload changed the payload");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = gradcode::mpi::wire;
  // An exact-size copy, so a read one byte past the message is a heap overflow ASan reports.
  std::vector<std::byte> bytes(size);
  if (size) std::memcpy(bytes.data(), data, size);
  wire::message m;
  try {
    m = wire::parse(bytes);
  } catch (const gradcode::invalid_input&) {
    return 0;
  }
  if (m.payload.size() && (m.payload.data() < bytes.data() || m.payload.data() + m.payload.size() != bytes.data() + bytes.size()))
    violated("the payload view is not the tail of the buffer");
  if (wire::serialised_size(m) != size) violated("serialised_size differs from the parsed size");
  if (wire::serialise(m) != bytes) violated("a parsed message re-serialises to other bytes");
  if (m.kind == wire::message_kind::edge_result)
    for (gradcode::Index workers : {0, 1, 3, 64}) {
      try {
        wire::validate_edge_result(m, 0, workers);
      } catch (const gradcode::invalid_input&) {
      }
    }
  read_as<float>(m);
  read_as<double>(m);
  return 0;
}
