// SPDX-License-Identifier: MIT
// tests/mpi/hgc_runner_test.cpp: tang2024 HGC over MPI (include/gradcode/mpi/hgc_runner.hpp).
// Every rank builds the same least-squares problem; workers compute their partitions' gradients,
// the master checks each round's decoded gradient against its own single-process sum Σ_k g_k,
// then steps, so every round carries a different model (a reply mixed into the wrong round would
// show). Each ctest line below runs this program under mpiexec with other faults.
//
// mpi-test: 13 --d 9 --rounds 8 --inject slow:100@w*.2 --inject crash@w1.0 --inject model:tang2024:0.002 --expect-late | HGC master's gradient equals the single-process reference every round under injected stragglers and a crash within tolerance
// mpi-test: 13 --d 6000 --rounds 5 --inject slow:100@w*.0 --inject crash@w2.1 --expect-late | HGC master's gradient equals the reference with messages above MPI's eager limit
// mpi-test: 13 --float --workers 2,3,4 --K 18 --d 33 --rounds 4 --inject slow:60@w*.1 | HGC over heterogeneous edges (m = 2 3 4) in float: message sizes equal the communication loads
// mpi-test: 13 --se 0 --sw 0 --rounds 3 --inject slow:80@w*.2 --expect-min-wall-ms 80 | uncoded baseline (s_e = s_w = 0) equals the reference and waits for every slow worker
// mpi-test: 13 --se 0 --rounds 2 --inject crash@w0.0,w0.1 --edge-wait-ms 1000 --master-wait-ms 3000 --expect-not-decodable 2 | crashed workers beyond tolerance make the master throw not_decodable with the edge's counts instead of hanging
// mpi-test: 13 --rounds 2 --inject crash@e0,e2 --edge-wait-ms 800 --master-wait-ms 1500 --expect-not-decodable 1 | crashed edges beyond tolerance make the master throw not_decodable after its bounded wait
#include <gradcode/mpi/hgc_runner.hpp>
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
  gradcode::Index K = 9, d = 9, rounds = 5, se = 1, sw = 1;
  bool use_float = false, expect_late = false;
  int expect_not_decodable = -1;  // edges the master should report as delivered
  double expect_min_wall_ms = 0;
  long edge_wait_ms = 5000, master_wait_ms = 10000;
  std::vector<std::string> faults;
};

options parse(int argc, char** argv) {
  options o;
  mpi_test::parse_flags(argc, argv, [&](const std::string& f, const auto& value) {
    if (f == "--workers") {
      o.workers.clear();
      for (const auto& s : mpi_test::split(value())) o.workers.push_back(std::stol(s));
    } else if (f == "--K") o.K = std::stol(value());
    else if (f == "--d") o.d = std::stol(value());
    else if (f == "--rounds") o.rounds = std::stol(value());
    else if (f == "--se") o.se = std::stol(value());
    else if (f == "--sw") o.sw = std::stol(value());
    else if (f == "--float") o.use_float = true;
    else if (f == "--expect-late") o.expect_late = true;
    else if (f == "--expect-not-decodable") o.expect_not_decodable = std::stoi(value());
    else if (f == "--expect-min-wall-ms") o.expect_min_wall_ms = std::stod(value());
    else if (f == "--edge-wait-ms") o.edge_wait_ms = std::stol(value());
    else if (f == "--master-wait-ms") o.master_wait_ms = std::stol(value());
    else if (f == "--inject") o.faults.push_back(value());
    else
      return false;
    return true;
  });
  return o;
}

template <class Scalar>
int run(const options& o, int rank) {
  using namespace gradcode;
  const mpi::topology layout(MPI_COMM_WORLD, o.workers);
  const hgc_code<Scalar> code(hgc_params{.workers = o.workers, .partitions = o.K, .edge_tolerance = o.se, .worker_tolerance = o.sw});
  mpi::transport_options wait;
  wait.edge_wait = std::chrono::milliseconds(o.edge_wait_ms);
  wait.master_wait = std::chrono::milliseconds(o.master_wait_ms);
  wait.shutdown_wait = std::chrono::milliseconds(30000);
  wait.idle_wait = std::chrono::milliseconds(120000);
  mpi::hgc_runner<Scalar> runner(layout, mpi::hgc_codec<Scalar>(code, o.d), mpi::injection_plan(o.faults), wait);
  const auto data = mpi_test::problem<Scalar>(o.K, o.d, 42);
  const linear_regression<Scalar> model(o.d - 1);
  const double tolerance = std::is_same_v<Scalar, float> ? 1e-4 : 1e-9;
  const long long bytes = o.d * static_cast<long long>(sizeof(Scalar));
  int failures = 0;
  auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "FAIL [%s]: %s\n", layout.describe().c_str(), what.c_str());
    ++failures;
  };

  long long late = 0;
  if (layout.my_role() == mpi::role::master) {
    vector<Scalar> w = vector<Scalar>::Zero(o.d), g(o.d);
    const double step = 1.0 / (static_cast<double>(data.features.squaredNorm()) + static_cast<double>(data.samples()));
    matrix<Scalar> partials;
    try {
      for (Index r = 0; r < o.rounds; ++r) {
        model.partial_gradients(w, data, partials);
        const vector<Scalar> reference = partials.rowwise().sum();  // the single-process answer
        const auto start = std::chrono::steady_clock::now();
        try {
          const auto rep = runner.round(std::span<const Scalar>(w.data(), static_cast<std::size_t>(w.size())), g);
          late += rep.late_messages;
          if (o.expect_not_decodable >= 0) {
            fail("round " + std::to_string(r) + " decoded although the faults exceed the tolerance");
            continue;
          }
          const double error = static_cast<double>((g - reference).norm()) / static_cast<double>(partials.colwise().norm().sum());
          std::printf("round %ld: %.1f ms, edges used %zu of %ld, relative error %.2e\n", static_cast<long>(r), rep.wall_ms,
                      rep.edges_used.size(), static_cast<long>(code.edges()), error);
          if (!(error <= tolerance)) fail("round " + std::to_string(r) + ": relative error " + std::to_string(error) + " > tolerance");
          if (rep.wall_ms < o.expect_min_wall_ms)
            fail("round " + std::to_string(r) + " took " + std::to_string(rep.wall_ms) + " ms, it must wait >= " +
                 std::to_string(o.expect_min_wall_ms) + " ms for the slow workers");
          if (static_cast<Index>(rep.edges_used.size()) < code.edges() - code.edge_tolerance())
            fail("master decoded from " + std::to_string(rep.edges_used.size()) + " edges");
          for (Index i : rep.edges_used) {
            const auto& es = rep.edges[static_cast<std::size_t>(i)];
            // Communication loads (tang2024 §II): every worker and edge message is one d-vector.
            if (es.message_bytes != bytes)
              fail("edge " + std::to_string(i) + " sent " + std::to_string(es.message_bytes) + " bytes, load d = " + std::to_string(bytes));
            if (static_cast<Index>(es.workers_used.size()) < code.workers(i) - code.worker_tolerance())
              fail("edge " + std::to_string(i) + " decoded from " + std::to_string(es.workers_used.size()) + " workers");
            // The edge's amplification crossed the wire: it is the one its own plan reports.
            if (es.amplification != code.edge_amplification(i, es.workers_used))
              fail("edge " + std::to_string(i) + " reported amplification " + std::to_string(es.amplification) + ", its plan has " +
                   std::to_string(code.edge_amplification(i, es.workers_used)));
            for (std::size_t t = 0; t < es.workers_used.size(); ++t) {
              if (es.worker_message_bytes[t] != bytes)
                fail("worker (" + std::to_string(i) + "," + std::to_string(es.workers_used[t]) + ") sent " +
                     std::to_string(es.worker_message_bytes[t]) + " bytes, load " + std::to_string(bytes));
              if (runner.faults().worker_fault({i, es.workers_used[t]}, r, 1).crashed)
                fail("edge " + std::to_string(i) + " used crashed worker " + std::to_string(es.workers_used[t]));
            }
          }
        } catch (const not_decodable& e) {
          const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
          std::printf("round %ld: not_decodable after %.0f ms: %s\n", static_cast<long>(r), ms, e.what());
          if (o.expect_not_decodable < 0) {
            fail(std::string("unexpected ") + e.what());
            continue;
          }
          if (static_cast<int>(e.received()) != o.expect_not_decodable ||
              e.needed() != static_cast<std::size_t>(code.edges() - code.edge_tolerance()))
            fail("not_decodable reports " + std::to_string(e.received()) + " received / " + std::to_string(e.needed()) + " needed");
          const std::string what = e.what(), counts = std::to_string(e.received()) + " of " + std::to_string(code.edges()) + " edges";
          if (what.find(counts) == std::string::npos || what.find("needed") == std::string::npos)
            fail("the message does not carry the counts ('" + counts + "')");
          if (ms > static_cast<double>(o.master_wait_ms) + 2000) fail("the master waited " + std::to_string(ms) + " ms, bound " + std::to_string(o.master_wait_ms));
        }
        w -= static_cast<Scalar>(step) * reference;
      }
    } catch (const std::exception& e) {
      fail(e.what());
    }
    runner.stop();
  } else {
    const auto rep = runner.serve([&](const mpi::worker_task<Scalar>& task, Eigen::Ref<matrix<Scalar>> held) {
      const Eigen::Map<const vector<Scalar>> w(task.broadcast.data(), static_cast<Index>(task.broadcast.size()));
      matrix<Scalar> partials;
      model.partial_gradients(w, data, partials);
      for (std::size_t t = 0; t < task.partitions.size(); ++t) held.col(static_cast<Index>(t)) = partials.col(task.partitions[t]);
    });
    late = rep.late_messages;
    for (long long b : rep.received_bytes)
      if (b != bytes) fail("received a worker message of " + std::to_string(b) + " bytes, load " + std::to_string(bytes));
  }

  return mpi_test::tally(failures, late, o.expect_late, rank);
}

}  // namespace

int main(int argc, char** argv) {
  return mpi_test::main_with_mpi(argc, argv, [&](int rank) {
    const options o = parse(argc, argv);
    return o.use_float ? run<float>(o, rank) : run<double>(o, rank);
  });
}
