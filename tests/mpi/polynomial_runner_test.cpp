// SPDX-License-Identifier: MIT
// tests/mpi/polynomial_runner_test.cpp: gholami2025 polynomial HGC over MPI
// (include/gradcode/mpi/polynomial_runner.hpp). As hgc_runner_test.cpp: a least-squares problem
// on every rank, the master compares each round's gradient with its own Σ_k g_k and steps; here
// also the adversaries each decoder located (exactly the injected ones) and the message sizes
// against Theorem 1's loads C1 = d/m1, C2 = d/(m1 m2).
//
// mpi-test: 13 --r1 3 --a1 1 --r2 3 --a2 1 --rounds 4 --inject corrupt@w0.1 --inject corrupt:-3@w2.0 --inject corrupt@e1 --expect-workers 0.1,2.0 --expect-edges 1 | polynomial HGC: adversarial workers and a relay are located and excluded and the gradient equals the reference
// mpi-test: 13 --r1 3 --s1 1 --r2 3 --s2 1 --d 16 --rounds 5 --inject slow:100@w*.2 --inject crash@e1 --inject model:tang2024:0.002 --expect-late | polynomial HGC: gradient equals the reference under stragglers and messages are d/m1 and d/(m1 m2) long
// mpi-test: 13 --r1 3 --s1 1 --r2 3 --s2 1 --points chebyshev --rounds 2 --mismatch-rank 7 --expect-mismatch-rank 7 | polynomial HGC: a worker with the paper's evaluation points among Chebyshev ranks (same message lengths) is named by rank in a code_mismatch before round 1
// mpi-test: 13 --r1 3 --s1 1 --r2 3 --s2 1 --points chebyshev --rounds 2 | polynomial HGC: with Chebyshev points on every rank the handshake verifies every rank and the gradient equals the reference
// mpi-test: 16 --r1 3 --s1 1 --r2 4 --s2 1 --a2 1 --workers 4,4,4 --K 12 --rounds 3 --inject crash@w*.3 --inject corrupt@w1.2 --inject slow:40@e0 --expect-workers 1.2 | polynomial HGC: a relay locates an adversary among its first N2 - s2 workers while another worker has crashed
#include <gradcode/mpi/polynomial_runner.hpp>
#include <gradcode/sim/models.hpp>

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "mpi/mpi_test_support.hpp"

namespace {

struct options {
  std::vector<gradcode::Index> workers{3, 3, 3};
  gradcode::Index K = 9, d = 12, rounds = 4, r1 = 3, s1 = 0, a1 = 0, r2 = 3, s2 = 0, a2 = 0;
  bool expect_late = false;
  gradcode::point_family points = gradcode::point_family::unit_circle;
  int mismatch_rank = -1;                           // this rank builds its code with the paper's points
  int expect_mismatch_rank = -1;                    // the master must name this rank in a code_mismatch
  std::vector<gradcode::worker_id> expect_workers;  // located by the relays, every round
  std::vector<gradcode::Index> expect_edges;        // located by the master, every round
  std::vector<std::string> faults;
};

options parse(int argc, char** argv) {
  options o;
  mpi_test::parse_flags(argc, argv, [&](const std::string& f, const auto& value) {
    if (f == "--workers") {
      o.workers.clear();
      for (const auto& s : mpi_test::split(value())) o.workers.push_back(std::stol(s));
    } else if (f == "--K")
      o.K = std::stol(value());
    else if (f == "--d")
      o.d = std::stol(value());
    else if (f == "--rounds")
      o.rounds = std::stol(value());
    else if (f == "--r1")
      o.r1 = std::stol(value());
    else if (f == "--s1")
      o.s1 = std::stol(value());
    else if (f == "--a1")
      o.a1 = std::stol(value());
    else if (f == "--r2")
      o.r2 = std::stol(value());
    else if (f == "--s2")
      o.s2 = std::stol(value());
    else if (f == "--a2")
      o.a2 = std::stol(value());
    else if (f == "--expect-late")
      o.expect_late = true;
    else if (f == "--expect-workers") {
      for (const auto& s : mpi_test::split(value()))
        o.expect_workers.push_back({std::stol(s.substr(0, s.find('.'))), std::stol(s.substr(s.find('.') + 1))});
    } else if (f == "--expect-edges") {
      for (const auto& s : mpi_test::split(value())) o.expect_edges.push_back(std::stol(s));
    } else if (f == "--inject")
      o.faults.push_back(value());
    else if (f == "--points") {
      const std::string v = value();
      if (v == "chebyshev")
        o.points = gradcode::point_family::chebyshev;
      else if (v == "paper")
        o.points = gradcode::point_family::paper;
      else if (v != "unit_circle")
        return false;
    } else if (f == "--mismatch-rank")
      o.mismatch_rank = std::stoi(value());
    else if (f == "--expect-mismatch-rank")
      o.expect_mismatch_rank = std::stoi(value());
    else
      return false;
    return true;
  });
  return o;
}

int run(const options& o, int rank) {
  using namespace gradcode;
  const mpi::topology layout(MPI_COMM_WORLD, o.workers);
  const polynomial_hgc<double> code(polynomial_hgc_params{
      .dimension = o.d,
      .clusters =
          place_partitions({.workers = o.workers, .partitions = o.K, .relay_replication = o.r1, .worker_replication = {o.r2}}),
      .relay_stragglers = o.s1,
      .relay_adversaries = o.a1,
      .worker_stragglers = {o.s2},
      .worker_adversaries = {o.a2},
      .points = rank == o.mismatch_rank ? point_family::paper : o.points});
  mpi::transport_options wait;
  wait.edge_wait = std::chrono::milliseconds(5000);
  wait.master_wait = std::chrono::milliseconds(10000);
  wait.shutdown_wait = std::chrono::milliseconds(30000);
  wait.idle_wait = std::chrono::milliseconds(120000);
  mpi::polynomial_runner<double> runner(layout, code, code.dimension(), mpi::injection_plan(o.faults), wait);
  const auto data = mpi_test::problem<double>(o.K, o.d, 7);
  const linear_regression<double> model(o.d - 1);
  int failures = 0;
  auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "FAIL [%s]: %s\n", layout.describe().c_str(), what.c_str());
    ++failures;
  };

  long long late = 0;
  if (layout.my_role() == mpi::role::master) {
    std::printf("m1 = %ld, m2 = %ld: C1 = %ld reals (d/m1 = %.2f), C2 = %ld reals (d/(m1 m2) = %.2f)\n",
                static_cast<long>(code.relay_parts()), static_cast<long>(code.worker_parts(0)),
                static_cast<long>(code.relay_message_length()), code.relay_load_bound(),
                static_cast<long>(code.worker_message_length(0)), code.worker_load_bound(0));
    vector<double> w = vector<double>::Zero(o.d), g(o.d);
    const double step = 1.0 / (data.features.squaredNorm() + static_cast<double>(data.samples()));
    matrix<double> partials;
    std::vector<gradcode::worker_id> located;  // every worker some relay located, over all rounds
    try {
      for (Index r = 0; r < o.rounds; ++r) {
        model.partial_gradients(w, data, partials);
        const vector<double> reference = partials.rowwise().sum();
        try {
          const auto rep = runner.round(std::span<const double>(w.data(), static_cast<std::size_t>(w.size())), g);
          late += rep.late_messages;
          if (o.expect_mismatch_rank >= 0) {
            fail("round " + std::to_string(r) + " ran although rank " + std::to_string(o.expect_mismatch_rank) +
                 " built another code");
            break;
          }
          if (r == 0 && runner.verified_ranks().size() != static_cast<std::size_t>(layout.edges() + layout.total_workers()))
            fail("the handshake verified " + std::to_string(runner.verified_ranks().size()) + " ranks");
          const double error = (g - reference).norm() / partials.colwise().norm().sum();
          std::printf("round %ld: %.1f ms, relays used %zu, located relays [", static_cast<long>(r), rep.wall_ms,
                      rep.edges_used.size());
          for (Index e : rep.corrupted_edges) std::printf(" %ld", static_cast<long>(e));
          std::printf(" ] workers [");
          for (Index i = 0; i < code.relays(); ++i)
            for (Index j : rep.edges[static_cast<std::size_t>(i)].corrupted_workers)
              std::printf(" (%ld,%ld)", static_cast<long>(i), static_cast<long>(j));
          std::printf(" ], relative error %.2e\n", error);
          if (!(error <= 1e-9)) fail("round " + std::to_string(r) + ": relative error " + std::to_string(error) + " > 1e-9");
          // Exactly the injected adversaries are located (those whose messages were used).
          std::vector<Index> want_edges;
          for (Index e : o.expect_edges)
            if (rep.edges[static_cast<std::size_t>(e)].replied) want_edges.push_back(e);
          if (rep.corrupted_edges != want_edges)
            fail("round " + std::to_string(r) + ": the master located other relays than injected");
          for (Index i : rep.edges_used) {
            const auto& es = rep.edges[static_cast<std::size_t>(i)];
            std::vector<Index> want;
            for (const auto& wid : o.expect_workers)
              if (wid.edge == i && std::find(es.workers_used.begin(), es.workers_used.end(), wid.worker) != es.workers_used.end())
                want.push_back(wid.worker);
            std::vector<Index> got = es.corrupted_workers;
            std::sort(got.begin(), got.end());
            for (Index j : got) located.push_back({i, j});
            if (got != want)
              fail("round " + std::to_string(r) + ": relay " + std::to_string(i) + " located other workers than injected");
            // Loads: Theorem 1's C1 = d/m1 and C2 = d/(m1 m2) as the code realizes them.
            if (es.message_bytes != code.relay_message_length() * 8)
              fail("relay " + std::to_string(i) + " sent " + std::to_string(es.message_bytes) +
                   " bytes, C1 = " + std::to_string(code.relay_message_length()) + " reals");
            for (long long b : es.worker_message_bytes)
              if (b != code.worker_message_length(i) * 8)
                fail("a worker of relay " + std::to_string(i) + " sent " + std::to_string(b) +
                     " bytes, C2 = " + std::to_string(code.worker_message_length(i)) + " reals");
            if (static_cast<Index>(es.workers_used.size()) < code.workers(i) - code.worker_stragglers(i))
              fail("relay " + std::to_string(i) + " decoded from " + std::to_string(es.workers_used.size()) + " workers");
            if (!es.rejected_workers.empty()) fail("relay " + std::to_string(i) + " dropped a worker message as malformed");
          }
          if (o.d % (2 * code.relay_parts() * code.worker_parts(0)) == 0 &&
              (static_cast<double>(code.relay_message_length()) != code.relay_load_bound() ||
               static_cast<double>(code.worker_message_length(0)) != code.worker_load_bound(0)))
            fail("message lengths differ from Theorem 1's loads although w·m1·m2 divides d");
        } catch (const mpi::code_mismatch& e) {
          std::printf("round %ld: code_mismatch: %s\n", static_cast<long>(r), e.what());
          if (e.rank() != o.expect_mismatch_rank || r != 0)
            fail("round " + std::to_string(r) + ": code_mismatch for rank " + std::to_string(e.rank()) + ", expected rank " +
                 std::to_string(o.expect_mismatch_rank) + " before round 1");
          break;
        } catch (const std::exception& e) {
          fail("round " + std::to_string(r) + ": " + e.what());
        }
        w -= step * reference;
      }
    } catch (const std::exception& e) {
      fail(e.what());
    }
    for (const auto& wid : o.expect_workers)
      if (o.expect_mismatch_rank < 0 && std::find(located.begin(), located.end(), wid) == located.end())
        fail("adversarial worker (" + std::to_string(wid.edge) + "," + std::to_string(wid.worker) + ") was never located");
    runner.stop();
  } else {
    const auto rep = runner.serve([&](const mpi::worker_task<double>& task, Eigen::Ref<matrix<double>> held) {
      const Eigen::Map<const vector<double>> w(task.broadcast.data(), static_cast<Index>(task.broadcast.size()));
      matrix<double> partials;
      model.partial_gradients(w, data, partials);
      for (std::size_t t = 0; t < task.partitions.size(); ++t) held.col(static_cast<Index>(t)) = partials.col(task.partitions[t]);
    });
    late = rep.late_messages;
    if (o.expect_mismatch_rank >= 0 && rep.rounds != 0)
      fail("replied to " + std::to_string(rep.rounds) + " rounds despite the mismatch");
    if (rep.malformed_messages != 0) fail("dropped " + std::to_string(rep.malformed_messages) + " messages as malformed");
    if (layout.my_role() == mpi::role::edge)
      for (long long b : rep.received_bytes)
        if (b != code.worker_message_length(layout.edge()) * 8)
          fail("received a worker message of " + std::to_string(b) + " bytes");
  }

  return mpi_test::tally(failures, late, o.expect_late, rank);
}

}  // namespace

int main(int argc, char** argv) {
  return mpi_test::main_with_mpi(argc, argv, [&](int rank) { return run(parse(argc, argv), rank); });
}
