// examples/mpi_train.cpp: softmax (multinomial logistic) regression on Fashion-MNIST trained over
// MPI with tang2024 HGC and with the uncoded baseline, on 1 master + n edges + Σm_i worker ranks.
// Every iteration the master broadcasts the model, each worker computes the gradients of its
// partitions, edges decode from their first m_i − s_w workers, the master from its first n − s_e
// edges. Prints per-iteration wall time and test accuracy, and the HGC / uncoded time ratio.
// Debian's dataset-fashion-mnist is used when installed (synthetic fallback otherwise).
// tests/mpi/mpi_train_claim_test.cpp runs the same driver (train() below) and checks README's
// HGC/uncoded time ratio; it defines GRADCODE_MPI_TRAIN_NO_MAIN before including this file.
//
//   mpirun -n 13 --oversubscribe ./gradcode_mpi_train --slow-per-edge 200
//
// mpi-ranks: 13
#include <gradcode/gradcode.hpp>
#include <gradcode/mpi/hgc_runner.hpp>

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "common/fashion_mnist.hpp"
#include "common/flags.hpp"
#include "common/iteration_times.hpp"

namespace {

struct options {
  std::vector<gradcode::Index> workers{3, 3, 3};
  gradcode::Index partitions = 18, iterations = 30, samples = 6000, test_samples = 2000, edge_tolerance = 1, worker_tolerance = 1;
  std::vector<std::string> schemes{"hgc", "uncoded"};
  std::vector<std::string> faults;
  double learning_rate = 0.1;
  std::uint64_t seed = 1;
};

constexpr const char* usage_text =
    "usage: mpirun -n <1 + n + Σm> %s [options]\n"
    "  --scheme hgc|uncoded|both   which aggregation to train with (default both)\n"
    "  --iterations 30             gradient steps per scheme\n"
    "  --workers 3,3,3             m_i workers of each edge (n = number of entries)\n"
    "  --K 18 --se 1 --sw 1        partitions and HGC tolerances (uncoded: s_e = s_w = 0)\n"
    "  --samples 6000 --test 2000  training / test samples   --lr 0.1   --seed 1\n"
    "  --slow-per-edge <ms>        worker 0 of every edge sleeps <ms> before each reply\n"
    "  --slow <ms>@<nodes>         e.g. 200@w1.2,e0   (nodes: w<i>.<j>, e<i>, * = any)\n"
    "  --crash <nodes>             these nodes never reply, e.g. w0.1\n"
    "  --model <scale>             tang2024 §V-A runtime model, its times (ms) x scale\n"
    "  --inject <clause>           any fault clause of gradcode/mpi/injection.hpp\n"
    "  --smoke                     a few iterations on a small sample (seconds)\n";

options parse(int argc, char** argv) {
  options o;
  examples::flags f(argc, argv, usage_text);
  while (f.next()) {
    if (f.is("--smoke"))
      o.iterations = 4, o.samples = 1200, o.test_samples = 500, o.faults.push_back("slow:50@w*.0");
    else if (f.is("--scheme")) {
      const std::string s = f.text();
      if (s == "both")
        o.schemes = {"hgc", "uncoded"};
      else if (s == "hgc" || s == "uncoded")
        o.schemes = {s};
      else
        f.fail("'" + s + "' is not hgc, uncoded or both");
    } else if (f.is("--iterations"))
      o.iterations = f.integer();
    else if (f.is("--workers")) {
      o.workers.clear();
      for (const long long m : f.integers()) o.workers.push_back(m);
    } else if (f.is("--K"))
      o.partitions = f.integer();
    else if (f.is("--se"))
      o.edge_tolerance = f.integer();
    else if (f.is("--sw"))
      o.worker_tolerance = f.integer();
    else if (f.is("--samples"))
      o.samples = f.integer();
    else if (f.is("--test"))
      o.test_samples = f.integer();
    else if (f.is("--lr"))
      o.learning_rate = f.number();
    else if (f.is("--seed"))
      o.seed = f.unsigned_integer();
    else if (f.is("--slow-per-edge"))
      o.faults.push_back("slow:" + f.text() + "@w*.0");
    else if (f.is("--slow"))
      o.faults.push_back("slow:" + f.text());
    else if (f.is("--crash"))
      o.faults.push_back("crash@" + f.text());
    else if (f.is("--model"))
      o.faults.push_back("model:tang2024:" + f.text());
    else if (f.is("--inject"))
      o.faults.push_back(f.text());
    else
      f.unknown();
  }
  return o;
}

using examples::mean_median;

/// What the master measured for one scheme.
struct scheme_times {
  std::string scheme;
  std::vector<double> wall_ms;  ///< per iteration
};

/// Where the samples come from: (split "train" or "t10k", at most this many samples).
using data_loader = std::function<examples::labelled_data(const std::string&, std::size_t)>;

/// The driver, collective over MPI_COMM_WORLD: trains with every scheme of `o` in turn and
/// returns the master's per-iteration wall times (empty on the other ranks).
std::vector<scheme_times> train(const options& o, const data_loader& load) {
  using namespace gradcode;
  const mpi::topology layout(MPI_COMM_WORLD, o.workers);
  const mpi::injection_plan faults(o.faults, o.seed);
  const bool master = layout.my_role() == mpi::role::master;
  const softmax_regression<float> model(784, 10);
  const Index d = model.parameters();

  // Workers: the training set, split into K non-overlapping partitions the same way on every rank.
  partitioned_data<float> train;
  examples::labelled_data test_raw;
  matrix<float> test_x;
  bool synthetic = false;
  if (layout.my_role() == mpi::role::worker) {
    const auto raw = load("train", static_cast<std::size_t>(o.samples));
    synthetic = raw.synthetic;
    const matrix<float> x = raw.features.cast<float>();
    train = split_non_iid<float>(x, raw.labels, o.partitions, non_iid_level::i, o.seed);
  } else if (master) {
    test_raw = load("t10k", static_cast<std::size_t>(o.test_samples));
    synthetic = test_raw.synthetic;
    test_x = test_raw.features.cast<float>();
  }

  std::vector<scheme_times> times;
  for (const std::string& scheme : o.schemes) {
    const bool coded = scheme == "hgc";
    const hgc_code<float> code(hgc_params{.workers = o.workers,
                                          .partitions = o.partitions,
                                          .edge_tolerance = coded ? o.edge_tolerance : 0,
                                          .worker_tolerance = coded ? o.worker_tolerance : 0});
    mpi::hgc_runner<float> runner(layout, code, d, faults);
    // Worker (i,j) holds only its partitions: build their rows once, in worker_partitions order.
    partitioned_data<float> mine;
    if (layout.my_role() == mpi::role::worker) {
      const auto parts = code.worker_partitions(layout.worker());
      Index rows = 0;
      for (Index k : parts) rows += train.begin[static_cast<std::size_t>(k) + 1] - train.begin[static_cast<std::size_t>(k)];
      mine.features.resize(rows, train.features.cols());
      mine.labels.reserve(static_cast<std::size_t>(rows));
      mine.begin = {0};
      for (Index k : parts) {
        const Index b = train.begin[static_cast<std::size_t>(k)], e = train.begin[static_cast<std::size_t>(k) + 1];
        mine.features.middleRows(mine.begin.back(), e - b) = train.features.middleRows(b, e - b);
        mine.labels.insert(mine.labels.end(), train.labels.begin() + b, train.labels.begin() + e);
        mine.begin.push_back(mine.begin.back() + (e - b));
      }
    }
    // Start the clock only when every rank has its data (loading is not part of an iteration).
    MPI_Barrier(MPI_COMM_WORLD);
    if (master) {
      std::printf("[%s] %ld edges x m = (", scheme.c_str(), static_cast<long>(code.edges()));
      for (std::size_t i = 0; i < o.workers.size(); ++i) std::printf("%s%ld", i ? "," : "", static_cast<long>(o.workers[i]));
      std::printf(") workers, K = %ld, (s_e, s_w) = (%ld, %ld), load D = %ld partitions per worker, d = %ld%s\n",
                  static_cast<long>(code.partitions()), static_cast<long>(code.edge_tolerance()),
                  static_cast<long>(code.worker_tolerance()), static_cast<long>(code.max_load()), static_cast<long>(d),
                  synthetic ? ", synthetic data" : ", Fashion-MNIST");
      std::fflush(stdout);
      vector<float> w = vector<float>::Zero(d), g(d);
      std::vector<double> wall;
      for (Index it = 1; it <= o.iterations; ++it) {
        const auto rep = runner.round(std::span<const float>(w.data(), static_cast<std::size_t>(d)), g);
        w -= static_cast<float>(o.learning_rate / static_cast<double>(o.samples)) * g;
        wall.push_back(rep.wall_ms);
        std::printf("[%-7s] iteration %3ld/%ld  wall %8.1f ms  edges used %zu/%ld  test accuracy %5.2f %%\n", scheme.c_str(),
                    static_cast<long>(it), static_cast<long>(o.iterations), rep.wall_ms, rep.edges_used.size(),
                    static_cast<long>(code.edges()), 100 * model.accuracy(w, test_x, test_raw.labels));
        std::fflush(stdout);
      }
      runner.stop();
      times.push_back({scheme, std::move(wall)});
    } else {
      matrix<float> partials;
      runner.serve([&](const mpi::worker_task<float>& task, Eigen::Ref<matrix<float>> held) {
        const vector<float> w = Eigen::Map<const vector<float>>(task.broadcast.data(), static_cast<Index>(task.broadcast.size()));
        model.partial_gradients(w, mine, partials);
        held = partials;
      });
    }
  }

  return times;
}

/// The summary table and the HGC / uncoded ratio (iteration 1 left out).
void print_summary(const std::vector<scheme_times>& times) {
  std::printf("\n%-8s %12s %14s %14s   (iteration 1 left out)\n", "scheme", "iterations", "mean wall ms", "median wall ms");
  for (const auto& t : times) {
    const auto [mean, median] = mean_median(t.wall_ms);
    std::printf("%-8s %12zu %14.1f %14.1f\n", t.scheme.c_str(), t.wall_ms.size(), mean, median);
  }
  if (times.size() == 2) {
    const auto h = mean_median(times[0].wall_ms), u = mean_median(times[1].wall_ms);
    std::printf("wall time per iteration, HGC / uncoded: %.3f (mean), %.3f (median)\n", h.first / u.first, h.second / u.second);
  }
}

}  // namespace

#ifndef GRADCODE_MPI_TRAIN_NO_MAIN
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int code = 1;
  try {
    const auto times = train(parse(argc, argv), [](const std::string& split, std::size_t samples) {
      return examples::load_fashion_mnist(split, samples);
    });
    if (!times.empty()) print_summary(times);
    code = 0;
  } catch (const std::exception& e) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    std::fprintf(stderr, "mpi_train [rank %d]: %s\n", rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);  // the other ranks would wait for this one
  }
  MPI_Finalize();
  return code;
}
#endif
