// examples/tsdcfl.cpp: wang TSDCFL §III in one run. Six heterogeneous workers (2, 2, 4, 4, 8, 8
// cores) with one or two injected stragglers per epoch; compares the two-stage dynamic code
// (history-driven M1, T_comp and s; real stage-1/stage-2 encode and decode) with cyclic
// repetition and fractional repetition coding (s = 2) and an uncoded wait-for-all reference:
// iteration time per epoch and worker utilisation. Then trains softmax (multinomial logistic)
// regression on Fashion-MNIST (Debian dataset-fashion-mnist; synthetic fallback) with every
// scheme's decoded gradient — equal per-epoch convergence, faster time-based convergence — and
// runs the §4.3 Lyapunov fairness scheduler for several V (and with admission weights λ_m). Last,
// the same epochs with the uploads on a shared uplink (2 sub-channels, the 2-core workers'
// channels 4× weaker): the channel time a scheduler gives each message decides when it reaches
// the master, under the §4.3 Lyapunov scheduler, a max-rate (strongest channel first) and an
// equal-share one. Measured (2000 epochs, seed 1): max-rate is the fastest — the master needs any
// M − s messages and sending the shortest uploads first gets them soonest — and the Lyapunov
// scheduler is 1–2 % slower for every scheme: P5 admits a message a slot after it arrives and P7
// sends it from the next slot, about 0.5 ms more per upload (tests/claims/tsdcfl_test.cpp).
// Prints progress and tables, writes CSV + PNG into --out.
//
//   gradcode_tsdcfl [--smoke] [--seed N] [--out DIR] [--epochs N] [--train-epochs N] [--samples N] [--slots N] [--slack X]
// SPDX-License-Identifier: MIT
#include <gradcode/sim/models.hpp>
#include <gradcode/sim/training.hpp>
#include <gradcode/sim/tsdcfl.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/fashion_mnist.hpp"
#include "common/flags.hpp"
#include "common/plot.hpp"

namespace {

using gradcode::Index;

struct options {
  bool smoke = false;
  std::uint64_t seed = 1;
  std::string out = "tsdcfl-out";
  Index epochs = 2000;      // timing-only epochs of the §III comparison
  Index train_epochs = 60;  // training epochs per scheme
  Index samples = 12000;    // Fashion-MNIST training images
  Index slots = 20000;      // Lyapunov slots per V
  double slack = 0.25;      // TSDCFL deadline slack: T_comp = (1 + slack) x predicted stage-1 makespan + upload
};

constexpr const char* usage_text =
    "usage: %s [--smoke] [--seed N] [--out DIR] [--epochs 2000] [--train-epochs 60] [--samples 12000] [--slots 20000]\n"
    "          [--slack 0.25]\n";

options parse(int argc, char** argv) {
  options o;
  examples::flags f(argc, argv, usage_text);
  while (f.next()) {
    if (f.is("--smoke"))
      o.smoke = true, o.epochs = 200, o.train_epochs = 4, o.samples = 1200, o.slots = 2000;
    else if (f.is("--seed"))
      o.seed = f.unsigned_integer();
    else if (f.is("--out"))
      o.out = f.text();
    else if (f.is("--epochs"))
      o.epochs = f.integer();
    else if (f.is("--train-epochs"))
      o.train_epochs = f.integer();
    else if (f.is("--samples"))
      o.samples = f.integer();
    else if (f.is("--slots"))
      o.slots = f.integer();
    else if (f.is("--slack"))
      o.slack = f.number();
    else
      f.unknown();
  }
  if (o.epochs < 1 || o.train_epochs < 0 || o.samples < 24 || o.slots < 2 || !(o.slack >= 0)) {
    std::fprintf(stderr, "need --epochs >= 1, --train-epochs >= 0, --samples >= 24, --slots >= 2, --slack >= 0\n");
    std::exit(2);
  }
  return o;
}

// The §III cluster, schemes and measurements live in gradcode/sim/tsdcfl.hpp (tests/claims/
// asserts README's figures from the same functions); this program prints and plots them.
const gradcode::tsdcfl::cluster cluster{};

// ---- part 1: iteration time and utilisation ---------------------------------------------------

void compare_epoch_times(const options& o) {
  std::printf(
      "\n[1/4] §III timing: %ld epochs, M = 6 workers with 2/2/4/4/8/8 cores, K = %ld, %g ms per partition-core, "
      "upload %g ms, 1-2 stragglers per epoch slowed %gx; CR and FR tolerate s = %ld\n",
      static_cast<long>(o.epochs), static_cast<long>(cluster.partitions), cluster.core_ms, cluster.upload_ms,
      cluster.straggler_slowdown, static_cast<long>(cluster.code_tolerance));
  const auto rows = gradcode::tsdcfl::compare_epoch_times(
      cluster, o.epochs, o.seed, o.slack, [&](Index done, const std::vector<gradcode::tsdcfl::scheme_timing>& so_far) {
        if (done % std::max<Index>(1, o.epochs / 5) != 0) return;
        std::printf("  epoch %5ld:", static_cast<long>(done));
        for (const auto& s : so_far) {
          double mean = 0;
          for (double t : s.times) mean += t;
          std::printf("  %s %.2f ms", s.name.c_str(), mean / static_cast<double>(s.times.size()));
        }
        std::printf("\n");
        std::fflush(stdout);
      });
  const double n = static_cast<double>(o.epochs);
  const double cr_mean = rows[2].mean();
  std::printf("\n  %-24s %12s %10s %10s %10s %11s %10s %9s\n", "scheme", "mean ms/ep", "median", "p95", "vs CR", "busy share",
              "useful", "coded ep.");
  std::vector<examples::series> curves;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const double mean = r.mean();
    char coded_cell[32] = "-";
    if (i < 2) std::snprintf(coded_cell, sizeof coded_cell, "%.0f%%", 100 * r.coded_epochs / n);
    std::printf("  %-24s %12.2f %10.2f %10.2f %9.2fx %10.0f%% %9.0f%% %9s\n", r.name.c_str(), mean, r.percentile(0.5),
                r.percentile(0.95), mean / cr_mean, 100 * r.busy_share / n, 100 * r.useful_share / n, coded_cell);
    examples::series s{r.name, {}, {}};
    for (std::size_t e = 0; e < std::min<std::size_t>(100, r.times.size()); ++e) {
      s.x.push_back(static_cast<double>(e + 1));
      s.y.push_back(r.times[e]);
    }
    curves.push_back(std::move(s));
  }
  std::printf(
      "  (busy share: computing time / (M x epoch time); useful: K / partitions computed; TSDCFL mean stage-2 s = %.2f)\n",
      rows[0].tolerance / n);
  examples::write_plot(curves, o.out + "/tsdcfl_iteration_time.csv", o.out + "/tsdcfl_iteration_time.png",
                       "TSDCFL Fig. 5e: iteration time per epoch (6 workers, 1-2 stragglers)", "epoch",
                       "iteration time (simulated ms)");
}

// ---- part 2: training ------------------------------------------------------------------------

void train(const options& o) {
  if (o.train_epochs == 0) {
    std::printf("\n[2/4] training skipped (--train-epochs 0)\n");
    return;
  }
  const auto train_raw = examples::load_fashion_mnist("train", static_cast<std::size_t>(o.samples));
  const auto test_raw = examples::load_fashion_mnist("t10k", o.smoke ? 500 : 5000);
  const auto data = gradcode::split_non_iid<double>(train_raw.features, train_raw.labels, cluster.partitions,
                                                    gradcode::non_iid_level::i, o.seed);
  std::printf(
      "\n[2/4] softmax regression on Fashion-MNIST%s: %ld training / %ld test images, K = %ld partitions, d = %ld, %ld epochs\n",
      train_raw.synthetic ? " [SYNTHETIC stand-in]" : "", static_cast<long>(data.samples()),
      static_cast<long>(test_raw.features.rows()), static_cast<long>(cluster.partitions),
      static_cast<long>(gradcode::softmax_regression<double>(784, 10).parameters()), static_cast<long>(o.train_epochs));
  const auto runs = gradcode::tsdcfl::train_softmax(
      cluster, data, test_raw.features, test_raw.labels, o.train_epochs, o.seed, o.slack,
      [&](const gradcode::tsdcfl::training_run& r) {
        std::printf(
            "  %-24s final test accuracy %.4f after %ld epochs, %.1f simulated ms, worst |g - sum g_k|/|sum g_k| = %.2e\n",
            r.name.c_str(), r.accuracy.back(), static_cast<long>(o.train_epochs), r.clock_ms.back(), r.worst_error);
        std::fflush(stdout);
      });
  std::vector<examples::series> by_epoch, by_time;
  for (const auto& r : runs) {
    examples::series ep{r.name, {}, {}}, tm{r.name, r.clock_ms, r.accuracy};
    for (std::size_t e = 0; e < r.accuracy.size(); ++e) ep.x.push_back(static_cast<double>(e)), ep.y.push_back(r.accuracy[e]);
    by_epoch.push_back(ep);
    by_time.push_back(tm);
  }
  double spread = 0;
  for (std::size_t e = 1; e < runs[0].accuracy.size(); ++e)
    for (std::size_t i = 1; i < runs.size(); ++i) spread = std::max(spread, std::abs(runs[i].accuracy[e] - runs[0].accuracy[e]));
  std::printf("  per-epoch accuracy identical across schemes up to %.1e (exact gradients); time to finish: ", spread);
  for (std::size_t i = 0; i < runs.size(); ++i)
    std::printf("%s%s %.0f ms", i ? ", " : "", runs[i].name.c_str(), runs[i].clock_ms.back());
  std::printf("\n");
  examples::write_plot(by_epoch, o.out + "/tsdcfl_accuracy_epoch.csv", o.out + "/tsdcfl_accuracy_epoch.png",
                       "wang TSDCFL Fig. 6a: test accuracy per epoch (Fashion-MNIST softmax regression)", "epoch",
                       "test accuracy");
  examples::write_plot(by_time, o.out + "/tsdcfl_accuracy_time.csv", o.out + "/tsdcfl_accuracy_time.png",
                       "wang TSDCFL Fig. 6c: test accuracy against simulated time", "simulated time (ms)", "test accuracy");
}

// ---- part 3: Lyapunov fairness scheduler -------------------------------------------------------

void schedule(const options& o) {
  std::printf(
      "\n[3/4] §4.3 Lyapunov fairness scheduler: 6 workers, %ld slots per V, L(t) in {1, 2} channels, "
      "arrivals ~U(0, 2) per slot, workers 0-1 with the weakest channels, 10%% stragglers per slot\n",
      static_cast<long>(o.slots));
  std::printf("  %8s %18s %16s %14s %14s %14s\n", "V", "sum log2(1+d_m)", "Jain fairness", "mean sum Q", "mean battery",
              "mean R_server");
  for (double V : {0.5, 5.0, 50.0, 500.0}) {
    const auto r = gradcode::tsdcfl::schedule(o.slots, o.seed, V);
    std::printf("  %8g %18.3f %16.3f %14.1f %14.2f %14.2f\n", V, r.utility, r.jain, r.backlog, r.battery, r.server_backlog);
  }
  // λ_m (P2, eq. (15)): weighting worker 0's admissions shifts admitted data to it.
  const auto plain = gradcode::tsdcfl::schedule(o.slots, o.seed, 50),
             weighted = gradcode::tsdcfl::schedule(o.slots, o.seed, 50, {4, 1, 1, 1, 1, 1});
  std::printf(
      "  V = 50, admission weights lambda = (4, 1, 1, 1, 1, 1): worker 0 admits %.3f per slot (lambda = 1: %.3f), Jain %.3f\n",
      weighted.admitted[0], plain.admitted[0], weighted.jain);
}

// ---- part 4: shared uplink ----------------------------------------------------------------------

void shared_uplink(const options& o) {
  gradcode::tsdcfl::cluster shared = cluster;
  std::printf(
      "\n[4/4] uploads on a shared uplink: %ld epochs, L = %ld sub-channels, slots of %g ms, channel rates (messages/ms) ",
      static_cast<long>(o.epochs), static_cast<long>(shared.channel.channels), shared.channel.slot_ms);
  for (double r : shared.channel.rate) std::printf("%g ", r);
  std::printf("x (1 +- %g fading), Lyapunov V = %g\n", shared.channel.fading, shared.channel.tradeoff);
  std::printf("  %-20s", "uplink");
  const auto names = gradcode::tsdcfl::compare_epoch_times(cluster, 1, o.seed, o.slack);
  for (const auto& r : names) std::printf(" %24s", r.name.c_str());
  std::printf("   (mean ms per epoch / communication stragglers per epoch)\n");
  const double n = static_cast<double>(o.epochs);
  for (auto model : {gradcode::tsdcfl::upload_model::fixed, gradcode::tsdcfl::upload_model::max_rate,
                     gradcode::tsdcfl::upload_model::equal_share, gradcode::tsdcfl::upload_model::lyapunov}) {
    shared.channel.model = model;
    const auto rows = gradcode::tsdcfl::compare_epoch_times(shared, o.epochs, o.seed, o.slack);
    std::printf("  %-20s", gradcode::tsdcfl::upload_model_name(model));
    for (const auto& r : rows) std::printf(" %14.2f / %7.2f", r.mean(), r.undelivered / n);
    std::printf("\n");
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::filesystem::create_directories(o.out);
  std::printf("wang TSDCFL §III%s (seed %llu, output in %s)\n", o.smoke ? " (smoke)" : "",
              static_cast<unsigned long long>(o.seed), o.out.c_str());
  compare_epoch_times(o);
  train(o);
  schedule(o);
  shared_uplink(o);
  return 0;
}
