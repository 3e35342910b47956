// SPDX-License-Identifier: MIT
// tests/mpi/hgc_runner_test.cpp: tang2024 HGC over MPI (include/gradcode/mpi/hgc_runner.hpp).
// Every rank builds the same least-squares problem; workers compute their partitions' gradients,
// the master checks each round's decoded gradient against its own single-process sum Σ_k g_k,
// then steps, so every round carries a different model (a reply mixed into the wrong round would
// show). Each ctest line below runs this program under mpiexec with other faults. In every run the
// master also checks that the start-up handshake verified every rank (unless a mismatch is
// injected) and that no edge dropped a worker message as malformed unless --expect-rejected names
// it: the runs without such faults are the negative controls of those that inject them.
//
// mpi-test: 13 --d 9 --rounds 8 --inject slow:100@w*.2 --inject crash@w1.0 --inject model:tang2024:0.002 --expect-late | HGC master's gradient equals the single-process reference every round under injected stragglers and a crash within tolerance
// mpi-test: 13 --d 6000 --rounds 5 --inject slow:100@w*.0 --inject crash@w2.1 --expect-late | HGC master's gradient equals the reference with messages above MPI's eager limit
// mpi-test: 13 --float --workers 2,3,4 --K 18 --d 33 --rounds 4 --inject slow:60@w*.1 | HGC over heterogeneous edges (m = 2 3 4) in float: message sizes equal the communication loads
// mpi-test: 13 --se 0 --sw 0 --rounds 3 --inject slow:80@w*.2 --expect-min-wall-ms 80 | uncoded baseline (s_e = s_w = 0) equals the reference and waits for every slow worker
// mpi-test: 13 --se 0 --rounds 2 --inject crash@w0.0,w0.1 --edge-wait-ms 1000 --master-wait-ms 3000 --expect-not-decodable 2 | crashed workers beyond tolerance make the master throw not_decodable with the edge's counts instead of hanging
// mpi-test: 13 --rounds 2 --inject crash@e0,e2 --edge-wait-ms 800 --master-wait-ms 1500 --expect-not-decodable 1 | crashed edges beyond tolerance make the master throw not_decodable after its bounded wait
// mpi-test: 13 --rounds 6 --inject crash@w0.0:after=1 --inject crash@w0.1:after=3 --inject crash@e2:after=3 --inject slow:150@e1 --edge-wait-ms 700 --master-wait-ms 1500 --not-decodable-from 4 --expect-not-decodable 1 --expect-used e2:0-3 --expect-used w0.1:2-3 --expect-used w0.2:2-3 --expect-message "edge 0: 1 of 3 workers replied within 700 ms" --expect-message "no reply from edge 2" | HGC: workers and an edge that die after round r leave training to the survivors within tolerance and give not_decodable with the counts beyond it
// mpi-test: 13 --se 0 --rounds 12 --inject slow:100@w0.0 --inject slow:700@w0.1:rounds=1 --expect-late-edge 0 --expect-used w0.1:10-11 | HGC: a worker that stalls comes back with a message of an old round which its edge drops by round and counts and the worker is used again
// mpi-test: 13 --rounds 3 --inject length:-3@w0.1 --inject length:5@w1.2 --inject length:1000000@w2.0 --inject slow:150@w0.0,w0.2,w1.0,w1.1,w2.1,w2.2 --expect-rejected w0.1,w1.2,w2.0 | HGC: worker messages that are too short or too long (8 MB) are dropped as malformed and the edges decode from the others
// mpi-test: 13 --rounds 3 --inject length:2@e2 --inject slow:100@e0,e1 --expect-rejected e2 | HGC: an edge result of the wrong length is refused by the master which decodes from the other edges
// mpi-test: 13 --rounds 2 --inject length:100@e1 --inject length:-1@e2 --inject slow:100@e1,e2 --master-wait-ms 20000 --expect-rejected e1,e2 --expect-not-decodable 1 --expect-message "edge 1: malformed message" --expect-message "edge 2: malformed result: mpi wire: edge 2 sent 8 scalars, 9 expected" --expect-max-ms 5000 | HGC: wrong-length edge results beyond tolerance give not_decodable at once without waiting out master_wait
// mpi-test: 13 --rounds 2 --mismatch-rank 5 --mismatch seed --expect-mismatch-rank 5 | HGC: a worker whose code was built with another seed is named by rank in a code_mismatch before round 1
// mpi-test: 13 --rounds 2 --mismatch-rank 2 --mismatch d --expect-mismatch-rank 2 | HGC: an edge built for another gradient length d is named by rank in a code_mismatch before round 1
// mpi-test: 13 --rounds 2 --mismatch-rank 12 --mismatch float --expect-mismatch-rank 12 | HGC: a worker running in float among double ranks is named by rank in a code_mismatch before round 1
// mpi-test: 13 --rounds 2 --mismatch-rank 9 --mismatch sw --expect-mismatch-rank 9 | HGC: a worker built with another worker tolerance s_w is named by rank in a code_mismatch before round 1
#include <gradcode/mpi/hgc_runner.hpp>
#include <gradcode/sim/models.hpp>

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "mpi/mpi_test_support.hpp"

namespace {

/// A node named on the command line: e<i> or w<i>.<j>.
struct node_name {
  bool is_edge = false;
  gradcode::Index edge = 0, worker = 0;
  static node_name parse(const std::string& s) {
    node_name n;
    if (s.rfind("e", 0) == 0) {
      n.is_edge = true;
      n.edge = std::stol(s.substr(1));
    } else if (s.rfind("w", 0) == 0 && s.find('.') != std::string::npos) {
      n.edge = std::stol(s.substr(1, s.find('.') - 1));
      n.worker = std::stol(s.substr(s.find('.') + 1));
    } else {
      throw std::invalid_argument("node '" + s + "' is neither e<i> nor w<i>.<j>");
    }
    return n;
  }
  std::string text() const {
    return is_edge ? "e" + std::to_string(edge) : "w" + std::to_string(edge) + "." + std::to_string(worker);
  }
};

/// --expect-used <node>:<a>-<b>: the node is used in every round a..b.
struct used_window {
  node_name node;
  gradcode::Index first = 0, last = 0;
};

struct options {
  std::vector<gradcode::Index> workers{3, 3, 3};
  gradcode::Index K = 9, d = 9, rounds = 5, se = 1, sw = 1;
  bool use_float = false, expect_late = false;
  int expect_not_decodable = -1;             // edges the master should report as delivered
  gradcode::Index not_decodable_from = 0;    // rounds before this one must decode
  std::vector<std::string> expect_messages;  // substrings of the not_decodable message
  double expect_min_wall_ms = 0, expect_max_ms = 0;
  long edge_wait_ms = 5000, master_wait_ms = 10000;
  std::vector<std::string> faults;
  std::vector<used_window> expect_used;
  std::vector<node_name> expect_rejected;  // dropped as malformed every round (workers: by their edge; edges: by the master)
  int expect_late_edge = -1;               // this edge reports dropped late messages
  int mismatch_rank = -1;                  // this rank builds another code...
  std::string mismatch;                    // ...differing in: seed, d, float, sw
  int expect_mismatch_rank = -1;           // the master must name this rank in a code_mismatch
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
    else if (f == "--se")
      o.se = std::stol(value());
    else if (f == "--sw")
      o.sw = std::stol(value());
    else if (f == "--float")
      o.use_float = true;
    else if (f == "--expect-late")
      o.expect_late = true;
    else if (f == "--expect-not-decodable")
      o.expect_not_decodable = std::stoi(value());
    else if (f == "--expect-min-wall-ms")
      o.expect_min_wall_ms = std::stod(value());
    else if (f == "--edge-wait-ms")
      o.edge_wait_ms = std::stol(value());
    else if (f == "--master-wait-ms")
      o.master_wait_ms = std::stol(value());
    else if (f == "--inject")
      o.faults.push_back(value());
    else if (f == "--not-decodable-from")
      o.not_decodable_from = std::stol(value());
    else if (f == "--expect-message")
      o.expect_messages.push_back(value());
    else if (f == "--expect-max-ms")
      o.expect_max_ms = std::stod(value());
    else if (f == "--expect-used") {
      const std::string v = value();
      const auto colon = v.find(':'), dash = v.find('-', colon);
      used_window u;
      u.node = node_name::parse(v.substr(0, colon));
      u.first = std::stol(v.substr(colon + 1, dash - colon - 1));
      u.last = std::stol(v.substr(dash + 1));
      o.expect_used.push_back(u);
    } else if (f == "--expect-rejected") {
      for (const auto& s : mpi_test::split(value())) o.expect_rejected.push_back(node_name::parse(s));
    } else if (f == "--expect-late-edge")
      o.expect_late_edge = std::stoi(value());
    else if (f == "--mismatch-rank")
      o.mismatch_rank = std::stoi(value());
    else if (f == "--mismatch")
      o.mismatch = value();
    else if (f == "--expect-mismatch-rank")
      o.expect_mismatch_rank = std::stoi(value());
    else
      return false;
    return true;
  });
  return o;
}

bool rejected(const options& o, const node_name& n) {
  return std::any_of(o.expect_rejected.begin(), o.expect_rejected.end(), [&](const node_name& r) {
    return r.is_edge == n.is_edge && r.edge == n.edge && (n.is_edge || r.worker == n.worker);
  });
}

template <class Scalar>
int run(const options& o, int rank) {
  using namespace gradcode;
  const mpi::topology layout(MPI_COMM_WORLD, o.workers);
  // The injected mismatch: this one rank builds another code (float is chosen in main()).
  const bool odd = rank == o.mismatch_rank;
  const Index d = odd && o.mismatch == "d" ? o.d + 1 : o.d;
  const hgc_code<Scalar> code(hgc_params{.workers = o.workers,
                                         .partitions = o.K,
                                         .edge_tolerance = o.se,
                                         .worker_tolerance = odd && o.mismatch == "sw" ? o.sw - 1 : o.sw,
                                         .seed = odd && o.mismatch == "seed" ? 2u : 1u});
  mpi::transport_options wait;
  wait.edge_wait = std::chrono::milliseconds(o.edge_wait_ms);
  wait.master_wait = std::chrono::milliseconds(o.master_wait_ms);
  wait.shutdown_wait = std::chrono::milliseconds(30000);
  wait.idle_wait = std::chrono::milliseconds(120000);
  mpi::hgc_runner<Scalar> runner(layout, code, d, mpi::injection_plan(o.faults), wait);
  const auto data = mpi_test::problem<Scalar>(o.K, d, 42);
  const linear_regression<Scalar> model(d - 1);
  const double tolerance = std::is_same_v<Scalar, float> ? 1e-4 : 1e-9;
  const long long bytes = d * static_cast<long long>(sizeof(Scalar));
  int failures = 0;
  auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "FAIL [%s]: %s\n", layout.describe().c_str(), what.c_str());
    ++failures;
  };

  long long late = 0;
  if (layout.my_role() == mpi::role::master) {
    vector<Scalar> w = vector<Scalar>::Zero(d), g(d);
    const double step = 1.0 / (static_cast<double>(data.features.squaredNorm()) + static_cast<double>(data.samples()));
    matrix<Scalar> partials;
    std::vector<char> late_reported(static_cast<std::size_t>(code.edges()), 0);
    auto used = [](const mpi::round_report& rep, const node_name& n) {
      const auto& es = rep.edges[static_cast<std::size_t>(n.edge)];
      return n.is_edge ? es.used
                       : es.used && std::find(es.workers_used.begin(), es.workers_used.end(), n.worker) != es.workers_used.end();
    };
    try {
      for (Index r = 0; r < o.rounds; ++r) {
        model.partial_gradients(w, data, partials);
        const vector<Scalar> reference = partials.rowwise().sum();  // the single-process answer
        const auto start = std::chrono::steady_clock::now();
        const bool beyond = o.expect_not_decodable >= 0 && r >= o.not_decodable_from;
        try {
          const auto rep = runner.round(std::span<const Scalar>(w.data(), static_cast<std::size_t>(w.size())), g);
          late += rep.late_messages;
          if (o.expect_mismatch_rank >= 0) {
            fail("round " + std::to_string(r) + " ran although rank " + std::to_string(o.expect_mismatch_rank) +
                 " built another code");
            break;
          }
          if (r == 0 && runner.verified_ranks().size() != static_cast<std::size_t>(code.edges() + code.total_workers()))
            fail("the handshake verified " + std::to_string(runner.verified_ranks().size()) + " ranks, " +
                 std::to_string(code.edges() + code.total_workers()) + " took part");
          if (beyond) {
            fail("round " + std::to_string(r) + " decoded although the faults exceed the tolerance");
            continue;
          }
          const double error = static_cast<double>((g - reference).norm()) / static_cast<double>(partials.colwise().norm().sum());
          std::printf("round %ld: %.1f ms, edges used %zu of %ld, relative error %.2e\n", static_cast<long>(r), rep.wall_ms,
                      rep.edges_used.size(), static_cast<long>(code.edges()), error);
          if (!(error <= tolerance))
            fail("round " + std::to_string(r) + ": relative error " + std::to_string(error) + " > tolerance");
          if (rep.wall_ms < o.expect_min_wall_ms)
            fail("round " + std::to_string(r) + " took " + std::to_string(rep.wall_ms) +
                 " ms, it must wait >= " + std::to_string(o.expect_min_wall_ms) + " ms for the slow workers");
          if (static_cast<Index>(rep.edges_used.size()) < code.edges() - code.edge_tolerance())
            fail("master decoded from " + std::to_string(rep.edges_used.size()) + " edges");
          for (const auto& u : o.expect_used)
            if (r >= u.first && r <= u.last && !used(rep, u.node))
              fail("round " + std::to_string(r) + ": " + u.node.text() + " was not used");
          for (Index i = 0; i < code.edges(); ++i) {
            const auto& es = rep.edges[static_cast<std::size_t>(i)];
            if (es.late_messages > 0) late_reported[static_cast<std::size_t>(i)] = 1;
            // Malformed edge results: refused exactly for the injected edges (they reply first: the
            // tests make the others slow).
            const bool malformed = es.failure.rfind("malformed", 0) == 0;
            if (rejected(o, node_name{true, i, 0}) && (!malformed || es.used))
              fail("round " + std::to_string(r) + ": the wrong-length result of edge " + std::to_string(i) +
                   " was not refused (" + (es.replied ? "failure: '" + es.failure + "'" : "no reply") + ")");
            if (!rejected(o, node_name{true, i, 0}) && malformed)
              fail("round " + std::to_string(r) + ": edge " + std::to_string(i) + " was refused: " + es.failure);
            if (es.used && runner.faults().edge_fault(i, r).crashed)
              fail("round " + std::to_string(r) + ": used crashed edge " + std::to_string(i));
          }
          for (Index i : rep.edges_used) {
            const auto& es = rep.edges[static_cast<std::size_t>(i)];
            // Communication loads (tang2024 §II): every worker and edge message is one d-vector.
            if (es.message_bytes != bytes)
              fail("edge " + std::to_string(i) + " sent " + std::to_string(es.message_bytes) +
                   " bytes, load d = " + std::to_string(bytes));
            if (static_cast<Index>(es.workers_used.size()) < code.workers(i) - code.worker_tolerance())
              fail("edge " + std::to_string(i) + " decoded from " + std::to_string(es.workers_used.size()) + " workers");
            // The edge's amplification crossed the wire: it is the one its own plan reports.
            if (es.amplification != code.edge_amplification(i, es.workers_used))
              fail("edge " + std::to_string(i) + " reported amplification " + std::to_string(es.amplification) +
                   ", its plan has " + std::to_string(code.edge_amplification(i, es.workers_used)));
            for (std::size_t t = 0; t < es.workers_used.size(); ++t) {
              if (es.worker_message_bytes[t] != bytes)
                fail("worker (" + std::to_string(i) + "," + std::to_string(es.workers_used[t]) + ") sent " +
                     std::to_string(es.worker_message_bytes[t]) + " bytes, load " + std::to_string(bytes));
              if (runner.faults().worker_fault({i, es.workers_used[t]}, r, 1).crashed)
                fail("edge " + std::to_string(i) + " used crashed worker " + std::to_string(es.workers_used[t]));
            }
            // Malformed worker messages: dropped exactly for the injected workers (all of them
            // arrive before the decode: the tests make the others slow).
            for (Index j = 0; j < code.workers(i); ++j) {
              const bool dropped =
                  std::find(es.rejected_workers.begin(), es.rejected_workers.end(), j) != es.rejected_workers.end();
              if (dropped != rejected(o, node_name{false, i, j}))
                fail("round " + std::to_string(r) + ": edge " + std::to_string(i) + (dropped ? " dropped" : " did not drop") +
                     " the message of worker " + std::to_string(j));
              if (dropped && std::find(es.workers_used.begin(), es.workers_used.end(), j) != es.workers_used.end())
                fail("round " + std::to_string(r) + ": edge " + std::to_string(i) + " used dropped worker " + std::to_string(j));
            }
          }
        } catch (const mpi::code_mismatch& e) {
          std::printf("round %ld: code_mismatch: %s\n", static_cast<long>(r), e.what());
          if (o.expect_mismatch_rank < 0) {
            fail(std::string("unexpected ") + e.what());
            break;
          }
          const std::string what = e.what(), named = "rank " + std::to_string(o.expect_mismatch_rank) + " (";
          if (e.rank() != o.expect_mismatch_rank || what.find(named) == std::string::npos)
            fail("code_mismatch names rank " + std::to_string(e.rank()) + ", expected " + std::to_string(o.expect_mismatch_rank));
          if (r != 0) fail("the mismatch was found in round " + std::to_string(r) + ", not before round 1");
          if (what.rfind("gradcode::invalid_parameters: ", 0) != 0) fail("code_mismatch is not tagged as invalid_parameters");
          // Every later round refuses too.
          try {
            runner.round(std::span<const Scalar>(w.data(), static_cast<std::size_t>(w.size())), g);
            fail("a round after the mismatch ran");
          } catch (const mpi::code_mismatch&) {
          }
          break;
        } catch (const not_decodable& e) {
          const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
          std::printf("round %ld: not_decodable after %.0f ms: %s\n", static_cast<long>(r), ms, e.what());
          if (!beyond) {
            fail(std::string("unexpected ") + e.what());
            continue;
          }
          if (static_cast<int>(e.received()) != o.expect_not_decodable ||
              e.needed() != static_cast<std::size_t>(code.edges() - code.edge_tolerance()))
            fail("not_decodable reports " + std::to_string(e.received()) + " received / " + std::to_string(e.needed()) +
                 " needed");
          const std::string what = e.what(),
                            counts = std::to_string(e.received()) + " of " + std::to_string(code.edges()) + " edges";
          if (what.find(counts) == std::string::npos || what.find("needed") == std::string::npos)
            fail("the message does not carry the counts ('" + counts + "')");
          for (const auto& part : o.expect_messages)
            if (what.find(part) == std::string::npos) fail("the message does not say '" + part + "'");
          if (ms > static_cast<double>(o.master_wait_ms) + 2000)
            fail("the master waited " + std::to_string(ms) + " ms, bound " + std::to_string(o.master_wait_ms));
          if (o.expect_max_ms > 0 && ms > o.expect_max_ms)
            fail("the master took " + std::to_string(ms) + " ms to give up, it knew after the failures (bound " +
                 std::to_string(o.expect_max_ms) + " ms)");
        }
        w -= static_cast<Scalar>(step) * reference;
      }
    } catch (const std::exception& e) {
      fail(e.what());
    }
    if (o.expect_late_edge >= 0 && !late_reported[static_cast<std::size_t>(o.expect_late_edge)])
      fail("edge " + std::to_string(o.expect_late_edge) + " never reported a dropped late message");
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
    // A mismatch is found before round 1: nothing was computed or decoded.
    if (o.expect_mismatch_rank >= 0 && rep.rounds != 0)
      fail("replied to " + std::to_string(rep.rounds) + " rounds despite the mismatch");
    if (o.expect_rejected.empty() && o.expect_mismatch_rank < 0 && rep.malformed_messages != 0)
      fail("dropped " + std::to_string(rep.malformed_messages) + " messages as malformed in a run without malformed ones");
  }

  return mpi_test::tally(failures, late, o.expect_late, rank);
}

}  // namespace

int main(int argc, char** argv) {
  return mpi_test::main_with_mpi(argc, argv, [&](int rank) {
    const options o = parse(argc, argv);
    const bool flip = o.mismatch == "float" && rank == o.mismatch_rank;
    return o.use_float != flip ? run<float>(o, rank) : run<double>(o, rank);
  });
}
