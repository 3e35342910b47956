// SPDX-License-Identifier: MIT
// Shared harness of the MPI test programs (tests/mpi/*_test.cpp): the least-squares problem every
// rank builds identically, comma lists on the command line, the final tally over all ranks, and a
// main() that turns an exception on any rank into MPI_Abort instead of a hang.
#pragma once

#include <gradcode/sim/models.hpp>

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <vector>

namespace mpi_test {

/// "a,b,c" → {"a", "b", "c"}.
inline std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at <= list.size();) {
    const auto comma = std::min(list.find(',', at), list.size());
    out.push_back(list.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

/// Walks `--flag [value]` arguments: handle(flag, value) returns false for a flag it does not know
/// (exit 2 with a message); value() takes the next argument (exit 2 when there is none).
template <class Handle>
void parse_flags(int argc, char** argv, Handle&& handle) {
  for (int a = 1; a < argc; ++a) {
    const std::string flag = argv[a];
    const auto value = [&]() -> std::string {
      if (a + 1 >= argc) {
        std::fprintf(stderr, "missing value after %s\n", flag.c_str());
        std::exit(2);
      }
      return argv[++a];
    };
    if (!handle(flag, value)) {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
}

/// The same least-squares problem on every rank: K partitions of 4 samples, d = features + 1.
template <class Scalar>
gradcode::partitioned_data<Scalar> problem(gradcode::Index K, gradcode::Index d, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  gradcode::partitioned_data<Scalar> data;
  const gradcode::Index samples = 4 * K;
  data.features.resize(samples, d - 1);
  data.targets.resize(samples);
  for (gradcode::Index i = 0; i < data.features.size(); ++i) data.features.data()[i] = static_cast<Scalar>(u(rng));
  for (gradcode::Index i = 0; i < samples; ++i) data.targets[i] = static_cast<Scalar>(u(rng));
  for (gradcode::Index k = 0; k <= K; ++k) data.begin.push_back(4 * k);
  return data;
}

/// Sums this rank's failures and drained late replies over all ranks; rank 0 prints the verdict
/// (and fails the run when late replies were expected but none were drained). Collective.
inline int tally(int failures, long long late, bool expect_late, int rank) {
  long long total_late = 0;
  int total_failures = 0;
  MPI_Reduce(&late, &total_late, 1, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
  MPI_Allreduce(&failures, &total_failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) {
    std::printf("late replies drained: %lld\n", total_late);
    if (expect_late && total_late == 0) {
      std::fprintf(stderr, "FAIL: a slow worker's late replies should have been drained, none were\n");
      ++total_failures;
    }
    std::printf("%s (%d failures)\n", total_failures ? "FAILED" : "PASSED", total_failures);
  }
  return total_failures ? 1 : 0;
}

/// MPI_Init, body(rank) → exit code, MPI_Finalize. An exception on any rank aborts the whole job:
/// the other ranks would otherwise wait for this one forever.
template <class Body>
int main_with_mpi(int argc, char** argv, Body&& body) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int code = 1;
  try {
    code = body(rank);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL [rank %d]: %s\n", rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
  return code;
}

}  // namespace mpi_test
