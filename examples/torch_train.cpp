// examples/torch_train.cpp: a CNN (LeNet-5; --net wide for a 1.2M-parameter one) on Fashion-MNIST,
// trained data-parallel over MPI on 1 master + n edges + Σm_i worker ranks, with the same seed,
// data order and optimiser under each scheme:
//   allreduce   every worker computes the gradient of its share, MPI_Allreduce sums it, every
//               worker steps (what DistributedDataParallel does); waits for the slowest worker
//   uncoded     hierarchical, no redundancy (HGC with s_e = s_w = 0): waits for every worker
//   hgc         tang2024 HGC, (s_e, s_w) from --se/--sw or chosen by JNCSS (--jncss, with --model)
//   polynomial  gholami2025 polynomial HGC: tolerates stragglers and locates a lying edge
//               (--adversary, default e1) or worker, which only this scheme is given
//   gcdl        li-skoglund 1-bit GC-DL, flat (workers → master): each worker sends the signs of
//               its coded update and its norm (w + 32 bits), the master decodes an unbiased
//               estimate from the first Σm − s arrivals (--gcdl r,s: replication, stragglers)
// The master of the coded schemes steps the optimiser and broadcasts the weights each round.
// Progress on stderr; at the end a table (mean / median iteration time, time to --target test
// accuracy, final accuracy, bytes the master receives per iteration), summary.csv and
// accuracy.png (test accuracy against training wall time; evaluation time is not counted).
// --verify <tol> checks what coding must not change: every coded scheme's parameters after the
// last step equal all-reduce's within relative difference <tol> (and a lying node was located
// every round); --expect-ratio <r> checks that an HGC iteration took at most r of an all-reduce
// one. Either failing exits 1 (ctest runs both, at a small size, as the trainer's claim test).
//
//   mpirun -n 13 --oversubscribe ./gradcode_torch_train --slow-per-edge 200
//
// mpi-ranks: 13
#include <gradcode/hierarchical/hgc.hpp>
#include <gradcode/hierarchical/polynomial.hpp>
#include <gradcode/mpi/hgc_runner.hpp>
#include <gradcode/mpi/polynomial_runner.hpp>
#include <gradcode/optimize/jncss.hpp>
#include <gradcode/quantize/gc_dl.hpp>
#include <gradcode/quantize/placement.hpp>
#include <gradcode/torch/flat_parameters.hpp>
#include <gradcode/torch/partition_gradients.hpp>

#include <mpi.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/fashion_mnist.hpp"
#include "common/flags.hpp"
#include "common/iteration_times.hpp"
#include "common/plot.hpp"
#include "common/torch_nets.hpp"

namespace {

using gradcode::Index;
using clock_type = std::chrono::steady_clock;

struct options {
  std::vector<Index> workers{3, 3, 3};
  Index partitions = 18, batch = 8, iterations = 300, samples = 60000, test_samples = 2000, eval_every = 10;
  Index edge_tolerance = 0, worker_tolerance = 1;
  bool jncss = false;
  std::vector<Index> polynomial{3, 0, 1, 2, 1, 0};  // r1, s1, a1, r2, s2, a2
  std::vector<Index> gcdl{2, 3};                    // replication d_i, stragglers s (p = s / Σm)
  double gcdl_learning_rate = 0.001;                // 1-bit noise grows with d (Lemma 2): 0.005 diverged LeNet-5 within 100 steps
  std::vector<std::string> schemes{"allreduce", "uncoded", "hgc", "polynomial"};  // gcdl on request
  std::vector<std::string> faults;                                                // every scheme (all-reduce: the delays only)
  std::vector<std::string> adversaries{"e1"};                                     // corrupt@<node>, polynomial only
  std::vector<std::pair<double, std::string>> cpu_shares;                         // (share, node pattern)
  std::string net = "lenet", csv = "summary.csv", png = "accuracy.png";
  double learning_rate = 0.05, momentum = 0.9, target = 0.85;
  double verify = 0, expect_ratio = 0;  // 0: no check
  std::uint64_t seed = 1;
  bool quiet = false;
};

const char* usage_text =
    "usage: mpirun -n <1 + n + Σm> %s [options]\n"
    "  --schemes allreduce,uncoded,hgc,polynomial   schemes to train with, in this order (also: gcdl)\n"
    "  --iterations 300 --eval-every 10            gradient steps; test accuracy every so many\n"
    "  --workers 3,3,3 --K 18 --batch 8            m_i per edge, partitions, samples per partition per step\n"
    "  --se 0 --sw 1 | --jncss                     HGC tolerances, or JNCSS on the --model runtime model\n"
    "  --poly r1,s1,a1,r2,s2,a2                    polynomial code (default 3,0,1,2,1,0: 1 lying edge, 1 straggler per edge)\n"
    "  --adversary e1                              nodes that corrupt their replies under the polynomial scheme ('none')\n"
    "  --gcdl 2,3 --gcdl-lr 0.001                  1-bit GC-DL: copies of each partition, stragglers not waited for; its lr\n"
    "  --net lenet|wide --lr 0.05 --momentum 0.9 --seed 1 --samples 60000 --test 2000\n"
    "  --target 0.85                               test accuracy for 'time to accuracy'\n"
    "  --slow-per-edge <ms>                        worker 0 of every edge sleeps <ms> before each reply\n"
    "  --slow <ms>@<nodes> --crash <nodes> --model <scale> --inject <clause>   (gradcode/mpi/injection.hpp)\n"
    "  --cpu-share <f>@<nodes>                     these workers run at a share f of a core (sleep (1/f - 1) x compute)\n"
    "  --csv summary.csv --png accuracy.png --quiet\n"
    "  --verify <tol>                              exit 1 unless coded parameters equal all-reduce's within <tol>\n"
    "  --expect-ratio <r>                          exit 1 unless mean HGC iteration <= r x all-reduce's\n"
    "  --smoke                                     a few iterations on a small sample (seconds)\n";

options parse(int argc, char** argv) {
  options o;
  examples::flags f(argc, argv, usage_text);
  auto indices = [&] {
    std::vector<Index> v;
    for (long long x : f.integers()) v.push_back(static_cast<Index>(x));
    return v;
  };
  while (f.next()) {
    if (f.is("--smoke")) {
      o.iterations = 6, o.samples = 2000, o.test_samples = 500, o.eval_every = 3, o.batch = 4;
      o.faults.push_back("slow:60@w*.0");
    } else if (f.is("--schemes"))
      o.schemes = f.words();
    else if (f.is("--iterations"))
      o.iterations = f.integer();
    else if (f.is("--eval-every"))
      o.eval_every = std::max<Index>(1, f.integer());
    else if (f.is("--workers"))
      o.workers = indices();
    else if (f.is("--K"))
      o.partitions = f.integer();
    else if (f.is("--batch"))
      o.batch = f.integer();
    else if (f.is("--se"))
      o.edge_tolerance = f.integer();
    else if (f.is("--sw"))
      o.worker_tolerance = f.integer();
    else if (f.is("--jncss"))
      o.jncss = true;
    else if (f.is("--poly")) {
      o.polynomial = indices();
      if (o.polynomial.size() != 6) f.fail("wants six numbers r1,s1,a1,r2,s2,a2");
    } else if (f.is("--adversary")) {
      o.adversaries = f.words();
      if (o.adversaries == std::vector<std::string>{"none"}) o.adversaries.clear();
    } else if (f.is("--gcdl")) {
      o.gcdl = indices();
      if (o.gcdl.size() != 2) f.fail("wants two numbers: replication,stragglers");
    } else if (f.is("--gcdl-lr"))
      o.gcdl_learning_rate = f.number();
    else if (f.is("--net"))
      o.net = f.text();
    else if (f.is("--lr"))
      o.learning_rate = f.number();
    else if (f.is("--momentum"))
      o.momentum = f.number();
    else if (f.is("--seed"))
      o.seed = f.unsigned_integer();
    else if (f.is("--samples"))
      o.samples = f.integer();
    else if (f.is("--test"))
      o.test_samples = f.integer();
    else if (f.is("--target"))
      o.target = f.number();
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
    else if (f.is("--cpu-share")) {
      const std::string v = f.text();
      const auto at = v.find('@');
      char* end = nullptr;
      const double share = at == std::string::npos ? 0 : std::strtod(v.substr(0, at).c_str(), &end);
      if (at == std::string::npos || !(share > 0 && share <= 1)) f.fail("wants <share in (0, 1]>@<nodes>, e.g. 0.25@w0.1");
      o.cpu_shares.emplace_back(share, v.substr(at + 1));
    } else if (f.is("--csv"))
      o.csv = f.text();
    else if (f.is("--png"))
      o.png = f.text();
    else if (f.is("--quiet"))
      o.quiet = true;
    else if (f.is("--verify"))
      o.verify = f.number();
    else if (f.is("--expect-ratio"))
      o.expect_ratio = f.number();
    else
      f.unknown();
  }
  for (const auto& s : o.schemes)
    if (s != "allreduce" && s != "uncoded" && s != "hgc" && s != "polynomial" && s != "gcdl")
      f.fail("'" + s + "' is not a scheme (allreduce, uncoded, hgc, polynomial, gcdl)");
  if ((o.verify > 0 || o.expect_ratio > 0) && (o.schemes.empty() || o.schemes[0] != "allreduce"))
    f.fail("compares with all-reduce: put allreduce first in --schemes");
  return o;
}

/// The training set as tensors, and which samples make partition k of iteration t: consecutive
/// blocks of `batch` samples of a stream that reshuffles the training set every epoch (seeded),
/// so every rank and every scheme sees the same data in the same order.
class data_schedule {
 public:
  data_schedule(at::Tensor images, at::Tensor labels, Index partitions, Index batch, std::uint64_t seed)
      : m_images(std::move(images)), m_labels(std::move(labels)), m_partitions(partitions), m_batch(batch), m_seed(seed) {}

  std::pair<at::Tensor, at::Tensor> partition(Index iteration, Index k) {
    const Index n = m_images.size(0);
    std::vector<std::int64_t> idx(static_cast<std::size_t>(m_batch));
    for (Index i = 0; i < m_batch; ++i) {
      const Index position = (iteration * m_partitions + k) * m_batch + i;
      idx[static_cast<std::size_t>(i)] = order(position / n)[static_cast<std::size_t>(position % n)];
    }
    const at::Tensor index = ::torch::tensor(idx, ::torch::kLong);
    return {m_images.index_select(0, index), m_labels.index_select(0, index)};
  }
  Index global_batch() const noexcept { return m_partitions * m_batch; }

 private:
  const std::vector<std::int64_t>& order(Index epoch) {
    if (epoch != m_epoch) {
      m_order.resize(static_cast<std::size_t>(m_images.size(0)));
      std::iota(m_order.begin(), m_order.end(), 0);
      std::mt19937_64 rng(m_seed * 1000003 + static_cast<std::uint64_t>(epoch));
      std::shuffle(m_order.begin(), m_order.end(), rng);
      m_epoch = epoch;
    }
    return m_order;
  }
  at::Tensor m_images, m_labels;
  Index m_partitions, m_batch;
  std::uint64_t m_seed;
  Index m_epoch = -1;
  std::vector<std::int64_t> m_order;
};

/// Fashion-MNIST as {N, 1, 28, 28} float tensors normalised with the training set's mean and
/// standard deviation (0.2860, 0.3530), and int64 labels.
std::pair<at::Tensor, at::Tensor> as_tensors(const examples::labelled_data& raw) {
  const Index n = raw.features.rows();
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x = raw.features.cast<float>();
  at::Tensor images = ::torch::from_blob(const_cast<float*>(x.data()), {n, 1, 28, 28}, ::torch::kFloat32).clone();
  images = (images - 0.2860f) / 0.3530f;
  std::vector<std::int64_t> y(raw.labels.begin(), raw.labels.end());
  return {images, ::torch::tensor(y, ::torch::kLong)};
}

/// What one scheme's run measured (the master gathers all-reduce's from its first worker).
struct scheme_result {
  std::string scheme{}, detail{};
  std::vector<double> wall_ms{};  ///< per iteration (training only)
  std::vector<double> eval_iteration{}, eval_time_s{}, eval_accuracy{}, eval_loss{};
  double bytes_per_iteration = 0;   ///< received by the master (all-reduce: per rank)
  Index located_adversaries = 0;    ///< polynomial: rounds × nodes reported corrupted
  std::vector<float> parameters{};  ///< after the last step
};

/// Test accuracy and mean loss of `net` (evaluation mode, no gradients).
std::pair<double, double> evaluate(examples::classifier& net, const at::Tensor& images, const at::Tensor& labels) {
  ::torch::NoGradGuard no_grad;
  const at::Tensor logits = net.forward(images);
  const double loss = ::torch::nn::functional::cross_entropy(logits, labels).item<double>();
  const double accuracy = logits.argmax(1).eq(labels).to(::torch::kFloat64).mean().item<double>();
  return {accuracy, loss};
}

/// A worker at a share f of a core: after computing for t, it sleeps (1/f − 1)·t.
double cpu_share(const options& o, gradcode::worker_id w) {
  double share = 1;
  for (const auto& [f, pattern] : o.cpu_shares) {
    const std::vector<std::string> clause{"slow:1@" + pattern};
    gradcode::mpi::injection_plan probe(clause);
    const std::vector<Index> m(o.workers.begin(), o.workers.end());
    probe.bind(m);
    if (probe.worker_fault(w, 0, 0).delay_ms > 0) share = std::min(share, f);
  }
  return share;
}

void throttle(double share, clock_type::time_point started) {
  if (share >= 1) return;
  const auto spent = clock_type::now() - started;
  std::this_thread::sleep_for(std::chrono::duration_cast<clock_type::duration>(spent * (1 / share - 1)));
}

/// MPI_Wait that sleeps between tests, as tree_runner's ranks do (transport_options::poll_interval):
/// on an oversubscribed host a spinning wait would take the cores from the ranks that compute.
void wait_politely(MPI_Request& request) {
  for (int done = 0;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

double ms_since(clock_type::time_point t) { return std::chrono::duration<double, std::milli>(clock_type::now() - t).count(); }

/// Everything one rank needs across schemes.
struct context {
  const options& o;
  const gradcode::mpi::topology& layout;
  std::shared_ptr<data_schedule> data{};    // workers
  at::Tensor test_images{}, test_labels{};  // master (and the first worker, for all-reduce)
  bool synthetic = false;
};

/// Records an evaluation (and prints progress) at the iterations where one is due.
void maybe_evaluate(const context& c, examples::classifier& net, scheme_result& r, Index it, double elapsed_s) {
  if (it % c.o.eval_every != 0 && it != c.o.iterations) return;
  const auto [accuracy, loss] = evaluate(net, c.test_images, c.test_labels);
  r.eval_iteration.push_back(static_cast<double>(it));
  r.eval_time_s.push_back(elapsed_s);
  r.eval_accuracy.push_back(accuracy);
  r.eval_loss.push_back(loss);
  if (!c.o.quiet)
    std::fprintf(stderr, "[%-10s] iteration %4ld/%ld  %7.2f s  last %7.1f ms  test loss %.3f  accuracy %5.2f %%\n",
                 r.scheme.c_str(), static_cast<long>(it), static_cast<long>(c.o.iterations), elapsed_s, r.wall_ms.back(), loss,
                 100 * accuracy);
}

std::vector<float> parameters_of(const gradcode::libtorch::flat_parameters<float>& flat) {
  const auto s = flat.parameter_span();
  return {s.begin(), s.end()};
}

/// One coded scheme through tree_runner: the master steps, workers compute their partitions.
template <class Code>
scheme_result run_coded(context& c, const std::string& scheme, const Code& code, const std::vector<std::string>& faults,
                        std::string detail) {
  const options& o = c.o;
  const auto& layout = c.layout;
  ::torch::manual_seed(o.seed);  // the same initial weights on every rank and under every scheme
  auto net = examples::make_classifier(o.net);
  gradcode::libtorch::flat_parameters<float> flat(net->parameters());
  const Index d = flat.size();
  gradcode::mpi::tree_runner<Code> runner(layout, code, d, gradcode::mpi::injection_plan(faults, o.seed));
  scheme_result r{scheme, std::move(detail)};
  MPI_Barrier(MPI_COMM_WORLD);  // loading is not part of an iteration
  if (layout.my_role() == gradcode::mpi::role::master) {
    ::torch::optim::SGD optimiser(net->parameters(), ::torch::optim::SGDOptions(o.learning_rate).momentum(o.momentum));
    gradcode::vector<float> g(d);
    double elapsed_ms = 0, bytes = 0;
    const float scale = 1.0f / static_cast<float>(o.partitions * o.batch);
    for (Index it = 1; it <= o.iterations; ++it) {
      const auto t0 = clock_type::now();
      const auto rep = runner.round(flat.parameter_span(), g);
      flat.set_gradient(g, scale);
      optimiser.step();
      r.wall_ms.push_back(ms_since(t0));
      elapsed_ms += r.wall_ms.back();
      for (const auto& e : rep.edges) {
        if (e.replied) bytes += static_cast<double>(e.message_bytes);
        r.located_adversaries += static_cast<Index>(e.corrupted_workers.size());
      }
      r.located_adversaries += static_cast<Index>(rep.corrupted_edges.size());
      maybe_evaluate(c, *net, r, it, elapsed_ms / 1000);
    }
    r.bytes_per_iteration = bytes / static_cast<double>(o.iterations);
    runner.stop();
    r.parameters = parameters_of(flat);
  } else {
    const double share = layout.my_role() == gradcode::mpi::role::worker ? cpu_share(o, layout.worker()) : 1;
    runner.serve([&](const gradcode::mpi::worker_task<float>& task, Eigen::Ref<gradcode::matrix<float>> held) {
      const auto t0 = clock_type::now();
      flat.load_parameters(task.broadcast);
      gradcode::libtorch::partition_gradients(flat, task.partitions, held, [&](Index k) {
        auto [x, y] = c.data->partition(task.round, k);
        return examples::summed_loss(*net, x, y);
      });
      throttle(share, t0);
    });
  }
  return r;
}

}  // namespace

namespace {

/// All-reduce (the DDP baseline) on the worker ranks: each computes the summed gradient of its
/// uncoded share with one backward, sleeps its injected delay, MPI_Allreduce sums, every worker
/// steps. The first worker times and evaluates, then sends its result to the master.
scheme_result run_allreduce(context& c, const std::vector<std::string>& faults) {
  const options& o = c.o;
  const auto& layout = c.layout;
  const bool worker = layout.my_role() == gradcode::mpi::role::worker;
  MPI_Comm comm;
  MPI_Comm_split(MPI_COMM_WORLD, worker ? 0 : MPI_UNDEFINED, 0, &comm);
  scheme_result r{"allreduce", "MPI_Allreduce over the workers"};
  ::torch::manual_seed(o.seed);
  auto net = examples::make_classifier(o.net);
  gradcode::libtorch::flat_parameters<float> flat(net->parameters());
  const Index d = flat.size();
  int first_worker = -1;  // world rank of the worker that reports
  if (worker) {
    int rank = 0, size = 0, world = 0;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(MPI_COMM_WORLD, &world);
    // The uncoded assignment: the same shares as the uncoded hierarchical scheme.
    const gradcode::hgc_code<float> shares(
        gradcode::hgc_params{.workers = o.workers, .partitions = o.partitions, .edge_tolerance = 0, .worker_tolerance = 0});
    const auto mine = shares.worker_partitions(layout.worker());
    const std::vector<Index> held(mine.begin(), mine.end());
    const std::vector<float> ones(held.size(), 1.0f);
    gradcode::mpi::injection_plan plan(faults, o.seed);
    plan.bind(o.workers);
    const double share = cpu_share(o, layout.worker());
    ::torch::optim::SGD optimiser(net->parameters(), ::torch::optim::SGDOptions(o.learning_rate).momentum(o.momentum));
    const float scale = 1.0f / static_cast<float>(o.partitions * o.batch);
    gradcode::vector<float> sum(d);
    double elapsed_ms = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    for (Index it = 1; it <= o.iterations; ++it) {
      const auto t0 = clock_type::now();
      gradcode::libtorch::combined_gradient(flat, std::span<const Index>(held), std::span<const float>(ones), [&](Index k) {
        auto [x, y] = c.data->partition(it - 1, k);
        return examples::summed_loss(*net, x, y);
      });
      throttle(share, t0);
      const double delay = plan.worker_fault(layout.worker(), it - 1, static_cast<double>(held.size())).delay_ms;
      if (delay > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(delay));
      const auto g = flat.gradient_vector();
      MPI_Request reduce;
      MPI_Iallreduce(g.data(), sum.data(), static_cast<int>(d), MPI_FLOAT, MPI_SUM, comm, &reduce);
      wait_politely(reduce);
      flat.set_gradient(sum, scale);
      optimiser.step();
      r.wall_ms.push_back(ms_since(t0));
      if (rank == 0) {  // every rank's iteration ends at the all-reduce; rank 0 reports its own
        elapsed_ms += r.wall_ms.back();
        maybe_evaluate(c, *net, r, it, elapsed_ms / 1000);
      }
      if (it % o.eval_every == 0) {  // evaluation time is not training time
        MPI_Request barrier;
        MPI_Ibarrier(comm, &barrier);
        wait_politely(barrier);
      }
    }
    // Ring all-reduce: each rank receives 2(P − 1)/P of the gradient.
    r.bytes_per_iteration = 2.0 * (size - 1) / size * static_cast<double>(d) * sizeof(float);
    r.parameters = parameters_of(flat);
    if (rank == 0) first_worker = world;
    MPI_Comm_free(&comm);
  } else {
    MPI_Barrier(MPI_COMM_WORLD);
  }
  {  // the master and the edges wait here through the whole run: without spinning on the cores
    MPI_Request barrier;
    MPI_Ibarrier(MPI_COMM_WORLD, &barrier);
    wait_politely(barrier);
  }
  // The master gathers the first worker's measurements.
  MPI_Allreduce(MPI_IN_PLACE, &first_worker, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  const bool master = layout.my_role() == gradcode::mpi::role::master;
  int world = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world);
  auto transfer = [&](std::vector<double>& v, int tag) {
    if (world == first_worker) {
      MPI_Send(v.data(), static_cast<int>(v.size()), MPI_DOUBLE, 0, tag, MPI_COMM_WORLD);
    } else if (master) {
      MPI_Status st;
      MPI_Probe(first_worker, tag, MPI_COMM_WORLD, &st);
      int n = 0;
      MPI_Get_count(&st, MPI_DOUBLE, &n);
      v.resize(static_cast<std::size_t>(n));
      MPI_Recv(v.data(), n, MPI_DOUBLE, first_worker, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
  };
  std::vector<double> params(r.parameters.begin(), r.parameters.end()), bytes{r.bytes_per_iteration};
  transfer(r.wall_ms, 901);
  transfer(r.eval_iteration, 902);
  transfer(r.eval_time_s, 903);
  transfer(r.eval_accuracy, 904);
  transfer(r.eval_loss, 905);
  transfer(params, 906);
  transfer(bytes, 907);
  if (master) {
    r.parameters.assign(params.begin(), params.end());
    r.bytes_per_iteration = bytes.empty() ? 0 : bytes[0];
  }
  return r;
}

/// 1-bit GC-DL (li-skoglund §III) between the master and the workers (the edges sit out). The K
/// partitions are GC-DL's samples, each on r workers (pair-wise balanced placement, random when no
/// design exists); worker j computes f_j = Σ_{k ∈ S_j} ∇L_k / (d_k(1 − p)) with ONE backward
/// (combined_gradient), quantizes it with the stream (seed, j, t) and sends [round | wire bytes];
/// the master decodes ĝ = Σ ‖f_j‖h_j from the first n − s results of the round and steps. p = s/n
/// is eq. (5)'s straggler probability: ĝ is unbiased when the late workers are a random set, and
/// biased towards the fast workers' partitions when the same workers are always late. Results of
/// earlier rounds are dropped; a worker that falls behind skips to the newest model it has.
scheme_result run_gcdl(context& c, const std::vector<std::string>& faults) {
  const options& o = c.o;
  const auto& layout = c.layout;
  const bool master = layout.my_role() == gradcode::mpi::role::master;
  const bool worker = layout.my_role() == gradcode::mpi::role::worker;
  MPI_Comm comm;  // rank 0 the master, then the workers in topology order
  MPI_Comm_split(MPI_COMM_WORLD, master || worker ? 0 : MPI_UNDEFINED, 0, &comm);
  ::torch::manual_seed(o.seed);
  auto net = examples::make_classifier(o.net);
  gradcode::libtorch::flat_parameters<float> flat(net->parameters());
  const Index d = flat.size();
  Index n = 0;
  for (Index m : o.workers) n += m;
  const Index replication = std::clamp<Index>(o.gcdl[0], 1, n), stragglers = std::clamp<Index>(o.gcdl[1], 0, n - 1);
  gradcode::assignment placement;
  try {
    placement = gradcode::place_samples(
        {.workers = n, .samples = o.partitions, .replication = replication, .kind = gradcode::placement_kind::pairwise_balanced});
  } catch (const gradcode::invalid_parameters&) {  // no exact design for (n, K, r)
    placement = gradcode::place_samples({.workers = n,
                                         .samples = o.partitions,
                                         .replication = replication,
                                         .kind = gradcode::placement_kind::random,
                                         .seed = o.seed});
  }
  const gradcode::gc_dl<float> code({.placement = placement,
                                     .dimension = d,
                                     .straggler_probability = static_cast<double>(stragglers) / static_cast<double>(n),
                                     .seed = o.seed});
  const std::size_t wire = code.quantizer().wire_bytes(), result_bytes = sizeof(std::int64_t) + wire;
  scheme_result r{"gcdl", "1-bit GC-DL: r = " + std::to_string(replication) + ", waits for " + std::to_string(n - stragglers) +
                              " of " + std::to_string(n) + ", " + std::to_string(wire) + " B per message, lr " +
                              std::to_string(o.gcdl_learning_rate)};
  constexpr int model_tag = 1, result_tag = 2;
  MPI_Barrier(MPI_COMM_WORLD);
  if (master) {
    ::torch::optim::SGD optimiser(net->parameters(), ::torch::optim::SGDOptions(o.gcdl_learning_rate).momentum(o.momentum));
    const float scale = 1.0f / static_cast<float>(o.partitions * o.batch);
    // One result receive posted per worker at all times; model sends kept alive until done.
    std::vector<std::vector<std::byte>> inbox(static_cast<std::size_t>(n), std::vector<std::byte>(result_bytes));
    std::vector<MPI_Request> receives(static_cast<std::size_t>(n));
    auto post = [&](Index j) {
      MPI_Irecv(inbox[static_cast<std::size_t>(j)].data(), static_cast<int>(result_bytes), MPI_BYTE, static_cast<int>(j + 1),
                result_tag, comm, &receives[static_cast<std::size_t>(j)]);
    };
    for (Index j = 0; j < n; ++j) post(j);
    std::vector<std::pair<MPI_Request, std::shared_ptr<std::vector<float>>>> sends;
    auto send_model = [&](float round) {
      auto payload = std::make_shared<std::vector<float>>(static_cast<std::size_t>(d) + 1);
      (*payload)[0] = round;
      const auto w = flat.parameter_span();
      std::copy(w.begin(), w.end(), payload->begin() + 1);
      for (Index j = 0; j < n; ++j) {
        MPI_Request q;
        MPI_Isend(payload->data(), static_cast<int>(payload->size()), MPI_FLOAT, static_cast<int>(j + 1), model_tag, comm, &q);
        sends.emplace_back(q, payload);
      }
    };
    auto reap_sends = [&] {
      std::erase_if(sends, [](auto& s) {
        int done = 0;
        MPI_Test(&s.first, &done, MPI_STATUS_IGNORE);
        return done != 0;
      });
    };
    std::vector<std::uint64_t> words(static_cast<std::size_t>((d + 63) / 64));
    std::vector<std::vector<std::uint64_t>> storage;
    gradcode::vector<float> g(d);
    double elapsed_ms = 0;
    for (Index it = 1; it <= o.iterations; ++it) {
      const auto t0 = clock_type::now();
      const std::int64_t round = it - 1;
      send_model(static_cast<float>(round));
      std::vector<Index> ids;
      std::vector<std::vector<std::byte>> arrived;
      while (static_cast<Index>(ids.size()) < n - stragglers) {
        bool progress = false;
        for (Index j = 0; j < n; ++j) {
          int done = 0;
          MPI_Test(&receives[static_cast<std::size_t>(j)], &done, MPI_STATUS_IGNORE);
          if (!done) continue;
          progress = true;
          std::int64_t from_round = 0;
          std::memcpy(&from_round, inbox[static_cast<std::size_t>(j)].data(), sizeof from_round);
          if (from_round == round) {  // else a late result of an earlier round: dropped
            ids.push_back(j);
            arrived.push_back(inbox[static_cast<std::size_t>(j)]);
          }
          post(j);
        }
        reap_sends();
        if (!progress) std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      storage.assign(ids.size(), std::vector<std::uint64_t>(words.size()));
      std::vector<gradcode::one_bit_view<float>> views;
      for (std::size_t t = 0; t < ids.size(); ++t)
        views.push_back(code.quantizer().from_wire(std::span<const std::byte>(arrived[t]).subspan(sizeof(std::int64_t)),
                                                   std::span<std::uint64_t>(storage[t]), ids[t]));
      code.decode(ids, views, g);
      flat.set_gradient(g, scale);
      optimiser.step();
      r.wall_ms.push_back(ms_since(t0));
      elapsed_ms += r.wall_ms.back();
      maybe_evaluate(c, *net, r, it, elapsed_ms / 1000);
    }
    r.bytes_per_iteration = static_cast<double>((n - stragglers) * static_cast<Index>(result_bytes));
    // Stop: every worker answers with round −1 once it has seen the stop; late results before it are dropped.
    send_model(-1.0f);
    for (Index j = 0; j < n; ++j)
      for (;;) {
        wait_politely(receives[static_cast<std::size_t>(j)]);
        std::int64_t from_round = 0;
        std::memcpy(&from_round, inbox[static_cast<std::size_t>(j)].data(), sizeof from_round);
        if (from_round < 0) break;
        post(j);
      }
    for (auto& s : sends) wait_politely(s.first);
    r.parameters = parameters_of(flat);
  } else if (worker) {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    const Index j = rank - 1;
    const auto mine = code.partitions_of(j);
    const std::vector<Index> held(mine.begin(), mine.end());
    std::vector<float> weights;
    for (Index k : held) weights.push_back(static_cast<float>(code.sample_weight(k)));
    gradcode::mpi::injection_plan plan(faults, o.seed);
    plan.bind(o.workers);
    const double share = cpu_share(o, layout.worker());
    std::vector<float> model(static_cast<std::size_t>(d) + 1);
    std::vector<std::byte> out(result_bytes);
    gradcode::one_bit_vector<float> message;
    for (;;) {
      // The newest model: wait for one, then take every later one already there.
      MPI_Request q;
      MPI_Irecv(model.data(), static_cast<int>(model.size()), MPI_FLOAT, 0, model_tag, comm, &q);
      wait_politely(q);
      for (int more = 1; more && model[0] >= 0;) {
        MPI_Iprobe(0, model_tag, comm, &more, MPI_STATUS_IGNORE);
        if (more) MPI_Recv(model.data(), static_cast<int>(model.size()), MPI_FLOAT, 0, model_tag, comm, MPI_STATUS_IGNORE);
      }
      const auto round = static_cast<std::int64_t>(model[0]);
      std::memcpy(out.data(), &round, sizeof round);
      if (round >= 0) {
        const auto t0 = clock_type::now();
        flat.load_parameters(std::span<const float>(model).subspan(1));
        gradcode::libtorch::combined_gradient(flat, std::span<const Index>(held), std::span<const float>(weights), [&](Index k) {
          auto [x, y] = c.data->partition(static_cast<Index>(round), k);
          return examples::summed_loss(*net, x, y);
        });
        code.quantize(j, static_cast<std::uint64_t>(round), flat.gradient_vector(), message);
        code.quantizer().to_wire(message, std::span<std::byte>(out).subspan(sizeof round));
        throttle(share, t0);
        const double delay =
            plan.worker_fault(layout.worker(), static_cast<Index>(round), static_cast<double>(held.size())).delay_ms;
        if (delay > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(delay));
      }
      MPI_Request s;
      MPI_Isend(out.data(), static_cast<int>(out.size()), MPI_BYTE, 0, result_tag, comm, &s);
      wait_politely(s);
      if (round < 0) break;
    }
  }
  if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  MPI_Request barrier;
  MPI_Ibarrier(MPI_COMM_WORLD, &barrier);
  wait_politely(barrier);
  return r;
}

/// The driver, collective over MPI_COMM_WORLD: trains with every scheme of `o` in turn and
/// returns the master's results (empty on the other ranks).
std::vector<scheme_result> train(const options& o) {
  const gradcode::mpi::topology layout(MPI_COMM_WORLD, o.workers);
  const bool master = layout.my_role() == gradcode::mpi::role::master;
  const bool worker = layout.my_role() == gradcode::mpi::role::worker;
  ::torch::set_num_threads(1);  // 1 + n + Σm ranks share the cores; intra-op threads would fight
  context c{o, layout};
  if (worker) {
    const auto raw = examples::load_fashion_mnist("train", static_cast<std::size_t>(o.samples));
    c.synthetic = raw.synthetic;
    auto [x, y] = as_tensors(raw);
    c.data = std::make_shared<data_schedule>(x, y, o.partitions, o.batch, o.seed);
  }
  if (master || (worker && layout.worker() == gradcode::worker_id{0, 0})) {
    const auto raw = examples::load_fashion_mnist("t10k", static_cast<std::size_t>(o.test_samples));
    c.synthetic = raw.synthetic;
    std::tie(c.test_images, c.test_labels) = as_tensors(raw);
  }
  // Faults: --inject/--slow/... for every scheme; corrupt@ only for the scheme that can locate it.
  std::vector<std::string> delays_only;
  for (const auto& f : o.faults)
    if (f.rfind("slow:", 0) == 0 || f.rfind("model:", 0) == 0) delays_only.push_back(f);
  std::vector<std::string> with_adversaries = o.faults;
  std::string adversary_text;
  for (const auto& a : o.adversaries) {
    with_adversaries.push_back("corrupt@" + a);
    adversary_text += (adversary_text.empty() ? "" : ",") + a;
  }

  Index se = o.edge_tolerance, sw = o.worker_tolerance;
  std::string hgc_detail;
  if (o.jncss) {
    gradcode::mpi::injection_plan plan(o.faults, o.seed);
    plan.bind(o.workers);
    if (plan.model().edges.empty())
      throw std::invalid_argument("--jncss needs the runtime model it optimises for: add --model <scale>");
    const auto choice = gradcode::jncss(plan.model(), o.partitions);
    se = choice.edge_tolerance, sw = choice.worker_tolerance;
    hgc_detail = "JNCSS: ";
  }
  std::vector<scheme_result> results;
  for (const std::string& scheme : o.schemes) {
    if (master && !o.quiet) std::fprintf(stderr, "== %s\n", scheme.c_str());
    scheme_result r;
    if (scheme == "allreduce") {
      if (delays_only.size() != o.faults.size() && master)
        std::fprintf(stderr, "note: all-reduce runs with the delays only (a crash would hang it, a corruption goes unnoticed)\n");
      r = run_allreduce(c, delays_only);
    } else if (scheme == "gcdl") {
      r = run_gcdl(c, delays_only);
    } else if (scheme == "uncoded" || scheme == "hgc") {
      const bool coded = scheme == "hgc";
      const gradcode::hgc_code<float> code(gradcode::hgc_params{.workers = o.workers,
                                                                .partitions = o.partitions,
                                                                .edge_tolerance = coded ? se : 0,
                                                                .worker_tolerance = coded ? sw : 0});
      const std::string detail = (coded ? hgc_detail : std::string()) + "(s_e, s_w) = (" + std::to_string(code.edge_tolerance()) +
                                 ", " + std::to_string(code.worker_tolerance()) + "), D = " + std::to_string(code.max_load());
      r = run_coded(c, scheme, code, o.faults, detail);
    } else {
      const auto& p = o.polynomial;
      ::torch::manual_seed(o.seed);
      const Index d = gradcode::libtorch::flat_parameters<float>(examples::make_classifier(o.net)->parameters()).size();
      const auto placement = gradcode::place_partitions(
          {.workers = o.workers, .partitions = o.partitions, .relay_replication = p[0], .worker_replication = {p[3]}});
      const gradcode::polynomial_hgc<float> code({.dimension = d,
                                                  .clusters = placement,
                                                  .relay_stragglers = p[1],
                                                  .relay_adversaries = p[2],
                                                  .worker_stragglers = {p[4]},
                                                  .worker_adversaries = {p[5]}});
      Index load = 0;
      for (Index i = 0; i < code.edges(); ++i)
        for (Index j = 0; j < code.workers(i); ++j)
          load = std::max<Index>(load, static_cast<Index>(code.worker_partitions(gradcode::worker_id{i, j}).size()));
      const std::string detail = "(s1, a1, s2, a2) = (" + std::to_string(p[1]) + ", " + std::to_string(p[2]) + ", " +
                                 std::to_string(p[4]) + ", " + std::to_string(p[5]) + "), D = " + std::to_string(load) +
                                 (adversary_text.empty() ? "" : ", liar " + adversary_text);
      r = run_coded(c, scheme, code, with_adversaries, detail);
    }
    if (master) results.push_back(std::move(r));
  }
  if (master && c.synthetic) std::fprintf(stderr, "note: trained on SYNTHETIC data (Fashion-MNIST not installed)\n");
  return results;
}

using examples::mean_median;

/// Training seconds at the first evaluation reaching `target`, or -1.
double time_to(const scheme_result& r, double target) {
  for (std::size_t i = 0; i < r.eval_accuracy.size(); ++i)
    if (r.eval_accuracy[i] >= target) return r.eval_time_s[i];
  return -1;
}

void report(const options& o, const std::vector<scheme_result>& results) {
  const scheme_result* baseline = nullptr;
  for (const auto& r : results)
    if (r.scheme == "allreduce") baseline = &r;
  std::printf("\n%-10s %9s %9s %12s %9s %10s %12s  %s\n", "scheme", "mean ms", "median ms", "to target s", "ratio", "final acc",
              "master B/it", "configuration");
  std::ofstream csv(o.csv);
  csv << "scheme,mean_ms,median_ms,time_to_target_s,ratio_to_allreduce,final_accuracy,master_bytes_per_iteration,configuration\n";
  std::vector<examples::series> curves;
  for (const auto& r : results) {
    const auto [mean, median] = mean_median(r.wall_ms);
    const double t = time_to(r, o.target), tb = baseline ? time_to(*baseline, o.target) : -1;
    const double ratio = t > 0 && tb > 0 ? t / tb : -1;
    const double final_accuracy = r.eval_accuracy.empty() ? 0 : r.eval_accuracy.back();
    char to_target[32], ratio_text[32];
    std::snprintf(to_target, sizeof to_target, t > 0 ? "%.2f" : "not reached", t);
    std::snprintf(ratio_text, sizeof ratio_text, ratio > 0 ? "%.3f" : "-", ratio);
    std::printf("%-10s %9.1f %9.1f %12s %9s %9.2f%% %12.0f  %s\n", r.scheme.c_str(), mean, median, to_target, ratio_text,
                100 * final_accuracy, r.bytes_per_iteration, r.detail.c_str());
    csv << r.scheme << ',' << mean << ',' << median << ',' << t << ',' << ratio << ',' << final_accuracy << ','
        << r.bytes_per_iteration << ",\"" << r.detail << "\"\n";
    curves.push_back({r.scheme, r.eval_time_s, r.eval_accuracy});
    if (r.located_adversaries > 0)
      std::printf("%-10s located and excluded %ld corrupted messages\n", "", static_cast<long>(r.located_adversaries));
  }
  std::printf(
      "(time to %.0f %% test accuracy counts training time only; iteration 1 left out of mean and median; "
      "all-reduce's bytes are a ring all-reduce's per rank)\n",
      100 * o.target);
  examples::write_plot(curves, o.png + ".csv", o.png, "Fashion-MNIST " + o.net + ": test accuracy against training time",
                       "training wall time (s)", "test accuracy");
}

double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    norm += static_cast<double>(b[i]) * b[i];
  }
  return a.size() == b.size() && norm > 0 ? std::sqrt(diff / norm) : HUGE_VAL;
}

/// --verify and --expect-ratio on the master's results (all-reduce first); the number of failures.
int verify(const options& o, const std::vector<scheme_result>& results) {
  int failures = 0;
  auto fail = [&](const std::string& what) {
    std::printf("FAIL: %s\n", what.c_str());
    ++failures;
  };
  const scheme_result& allreduce = results.front();
  if (o.verify > 0) {
    ::torch::manual_seed(o.seed);
    const auto initial =
        parameters_of(gradcode::libtorch::flat_parameters<float>(examples::make_classifier(o.net)->parameters()));
    const double moved = relative_difference(allreduce.parameters, initial);
    std::printf("verify: training moved all-reduce's parameters by %.3e (relative)\n", moved);
    if (!(moved > 100 * o.verify)) fail("training moved the parameters too little for the comparison to mean anything");
    for (const auto& r : results) {
      if (&r == &allreduce) continue;
      const double diff = relative_difference(r.parameters, allreduce.parameters);
      std::printf("verify: %s parameters vs all-reduce's: relative difference %.3e (tolerance %.1e)\n", r.scheme.c_str(), diff,
                  o.verify);
      if (!(diff <= o.verify)) fail(r.scheme + "'s parameters differ from all-reduce's");
      if (r.scheme == "polynomial" && !o.adversaries.empty() && r.located_adversaries < o.iterations)
        fail("the polynomial code located " + std::to_string(r.located_adversaries) + " corrupted messages in " +
             std::to_string(o.iterations) + " rounds with a liar in every round");
    }
  }
  if (o.expect_ratio > 0) {
    const auto hgc = std::find_if(results.begin(), results.end(), [](const scheme_result& r) { return r.scheme == "hgc"; });
    if (hgc == results.end()) {
      fail("--expect-ratio needs the hgc scheme");
    } else {
      const double ratio = mean_median(hgc->wall_ms).first / mean_median(allreduce.wall_ms).first;
      std::printf("verify: mean iteration time HGC / all-reduce %.3f (expected at most %.3f)\n", ratio, o.expect_ratio);
      if (!(ratio <= o.expect_ratio)) fail("HGC iterations are not fast enough against all-reduce");
    }
  }
  return failures;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int code = 1;
  try {
    const options o = parse(argc, argv);
    const auto results = train(o);
    code = 0;
    if (!results.empty()) {
      report(o, results);
      if (o.verify > 0 || o.expect_ratio > 0) code = verify(o, results) ? 1 : 0;
    }
  } catch (const std::exception& e) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    std::fprintf(stderr, "torch_train [rank %d]: %s\n", rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);  // the other ranks would wait for this one
  }
  MPI_Finalize();
  return code;
}
