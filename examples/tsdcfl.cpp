// examples/tsdcfl.cpp: wang TSDCFL §III in one run. Six heterogeneous workers (2, 2, 4, 4, 8, 8
// cores) with one or two injected stragglers per epoch; compares the two-stage dynamic code
// (history-driven M1, T_comp and s; real stage-1/stage-2 encode and decode) with cyclic
// repetition and fractional repetition coding (s = 2) and an uncoded wait-for-all reference:
// iteration time per epoch and worker utilisation. Then trains softmax (multinomial logistic)
// regression on Fashion-MNIST (Debian dataset-fashion-mnist; synthetic fallback) with every
// scheme's decoded gradient — equal per-epoch convergence, faster time-based convergence — and
// runs the §4.3 Lyapunov fairness scheduler for several V. Prints progress and tables, writes
// CSV + PNG into --out.
//
//   gradcode_tsdcfl [--smoke] [--seed N] [--out DIR] [--epochs N] [--train-epochs N] [--samples N] [--slots N] [--slack X]
// SPDX-License-Identifier: MIT
#include <gradcode/codes/cyclic_repetition.hpp>
#include <gradcode/codes/fractional_repetition.hpp>
#include <gradcode/codes/heterogeneous.hpp>
#include <gradcode/dynamic/epoch_policy.hpp>
#include <gradcode/dynamic/history.hpp>
#include <gradcode/dynamic/lyapunov.hpp>
#include <gradcode/dynamic/two_stage.hpp>
#include <gradcode/sim/models.hpp>
#include <gradcode/sim/training.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "common/fashion_mnist.hpp"
#include "common/plot.hpp"

namespace {

using gradcode::Index;
using mat = gradcode::matrix<double>;
using vec = gradcode::vector<double>;

struct options {
  bool smoke = false;
  std::uint64_t seed = 1;
  std::string out = "tsdcfl-out";
  Index epochs = 2000;        // timing-only epochs of the §III comparison
  Index train_epochs = 60;    // training epochs per scheme
  Index samples = 12000;      // Fashion-MNIST training images
  Index slots = 20000;        // Lyapunov slots per V
  double slack = 0.25;        // TSDCFL deadline slack: T_comp = (1 + slack) x predicted stage-1 makespan + upload
};

[[noreturn]] void usage(const char* argv0, int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: %s [--smoke] [--seed N] [--out DIR] [--epochs 2000] [--train-epochs 60] [--samples 12000] [--slots 20000]\n          [--slack 0.25]\n",
               argv0);
  std::exit(code);
}

options parse(int argc, char** argv) {
  options o;
  for (int a = 1; a < argc; ++a) {
    const std::string flag = argv[a];
    auto value = [&]() -> std::string {
      if (a + 1 >= argc) usage(argv[0], 2);
      return argv[++a];
    };
    if (flag == "--help" || flag == "-h")
      usage(argv[0], 0);
    else if (flag == "--smoke")
      o.smoke = true, o.epochs = 200, o.train_epochs = 4, o.samples = 1200, o.slots = 2000;
    else if (flag == "--seed")
      o.seed = std::stoull(value());
    else if (flag == "--out")
      o.out = value();
    else if (flag == "--epochs")
      o.epochs = std::stol(value());
    else if (flag == "--train-epochs")
      o.train_epochs = std::stol(value());
    else if (flag == "--samples")
      o.samples = std::stol(value());
    else if (flag == "--slots")
      o.slots = std::stol(value());
    else if (flag == "--slack")
      o.slack = std::stod(value());
    else
      usage(argv[0], 2);
  }
  if (o.epochs < 1 || o.train_epochs < 0 || o.samples < 24 || o.slots < 2 || !(o.slack >= 0)) {
    std::fprintf(stderr, "need --epochs >= 1, --train-epochs >= 0, --samples >= 24, --slots >= 2, --slack >= 0\n");
    std::exit(2);
  }
  return o;
}

// ---- the §III cluster --------------------------------------------------------------------------

const std::vector<double> cores = {2, 2, 4, 4, 8, 8};
constexpr Index workers = 6;
constexpr Index partitions = 24;       // K: 4 per worker for cyclic repetition, 12 per group for fractional repetition
constexpr Index code_tolerance = 2;    // s of the static baselines: the most stragglers injected
constexpr double core_ms = 8.0;        // one partition on one core
constexpr double upload_ms = 2.0;      // one message to the master
constexpr double straggler_slowdown = 5.0;

/// One epoch's draw, shared by every scheme: per-worker ms per partition (jitter and injected
/// stragglers included).
struct epoch_env {
  std::vector<double> ms_per_partition;
  std::vector<Index> stragglers;
};

epoch_env draw_env(std::uint64_t seed, Index epoch) {
  std::mt19937_64 rng(seed * 1000003u + static_cast<std::uint64_t>(epoch));
  std::exponential_distribution<double> jitter(1 / 0.05);  // mean +5% noise per worker and epoch
  epoch_env env;
  for (Index m = 0; m < workers; ++m)
    env.ms_per_partition.push_back(core_ms / cores[static_cast<std::size_t>(m)] * (1 + jitter(rng)));
  std::vector<Index> ids(workers);
  std::iota(ids.begin(), ids.end(), Index{0});
  std::shuffle(ids.begin(), ids.end(), rng);
  const Index count = std::uniform_int_distribution<Index>(1, 2)(rng);  // §III: one or two stragglers per epoch
  env.stragglers.assign(ids.begin(), ids.begin() + count);
  for (Index m : env.stragglers) env.ms_per_partition[static_cast<std::size_t>(m)] *= straggler_slowdown;
  return env;
}

struct epoch_outcome {
  double time = 0;          // ms until the master can decode Σ g_k
  double busy_share = 0;    // Σ_m busy_m / (M · time): computing capacity in use
  double useful_share = 0;  // K / Σ_m partitions computed: computation that was not redundant
  bool coded = false;       // TSDCFL: stage 2 coded something
  Index tolerance = 0;      // TSDCFL: s of stage 2
};

/// Busy time of every worker → the utilisation figures of an epoch.
void utilisation(epoch_outcome& out, const std::vector<double>& busy, const epoch_env& env) {
  double total = 0, computed = 0;
  for (Index m = 0; m < workers; ++m) {
    total += busy[static_cast<std::size_t>(m)];
    computed += busy[static_cast<std::size_t>(m)] / env.ms_per_partition[static_cast<std::size_t>(m)];
  }
  out.busy_share = total / (static_cast<double>(workers) * out.time);
  out.useful_share = static_cast<double>(partitions) / std::max(computed, 1e-12);
}

/// A scheme: one epoch of timing, and (when `partials` is given) the master's decoded gradient.
class scheme {
 public:
  virtual ~scheme() = default;
  virtual const char* name() const = 0;
  virtual epoch_outcome run(const epoch_env& env, const mat* partials, vec* gradient) = 0;
};

/// A static gradient code on all six workers (cyclic / fractional repetition; the uncoded
/// reference is the heterogeneous code with s = 0): every worker starts at 0, the master decodes
/// at the first arrival after which the responders are decodable.
class static_scheme final : public scheme {
 public:
  static_scheme(const char* label, gradcode::linear_code<double> code) : m_label(label), m_code(std::move(code)) {}
  const char* name() const override { return m_label; }
  epoch_outcome run(const epoch_env& env, const mat* partials, vec* gradient) override {
    std::vector<std::pair<double, Index>> arrivals;
    for (Index m = 0; m < workers; ++m)
      arrivals.emplace_back(static_cast<double>(m_code.load(m)) * env.ms_per_partition[static_cast<std::size_t>(m)] + upload_ms, m);
    std::sort(arrivals.begin(), arrivals.end());
    gradcode::pattern responders(workers);
    std::vector<Index> ids;
    epoch_outcome out;
    for (const auto& [t, m] : arrivals) {
      responders.insert(m);
      ids.push_back(m);
      if (m_code.decodable(responders)) {
        out.time = t;
        break;
      }
    }
    std::vector<double> busy(workers);
    for (Index m = 0; m < workers; ++m)
      busy[static_cast<std::size_t>(m)] =
          std::min(static_cast<double>(m_code.load(m)) * env.ms_per_partition[static_cast<std::size_t>(m)], out.time);
    utilisation(out, busy, env);
    if (partials) {
      mat messages(partials->rows(), static_cast<Index>(ids.size()));
      for (std::size_t j = 0; j < ids.size(); ++j) messages.col(static_cast<Index>(j)) = m_code.encode(ids[j], *partials);
      *gradient = m_code.decode(ids, messages);
    }
    return out;
  }

 private:
  const char* m_label;
  gradcode::linear_code<double> m_code;
};

/// TSDCFL: the history picks M1 workers, T_comp and s; stage 1 runs uncoded, the deadline builds
/// the stage-2 code over the unfinished and the held-back workers; the history learns from the
/// epoch.
class tsdcfl_scheme final : public scheme {
 public:
  tsdcfl_scheme(const char* label, gradcode::stage_one_selection selection, double slack, std::uint64_t seed)
      : m_label(label), m_history(initial_throughputs(), {.smoothing = 0.3, .straggler_ratio = 0.5, .initial_stragglers = 1}),
        m_policy{.stage_one_workers = 0, .selection = selection, .deadline_slack = slack, .fixed_deadline = 0, .deadline_offset = upload_ms},
        m_rng(seed) {}
  const char* name() const override { return m_label; }
  const gradcode::worker_history& history() const { return m_history; }

  epoch_outcome run(const epoch_env& env, const mat* partials, vec* gradient) override {
    const auto decision = gradcode::decide_epoch(m_history, partitions, m_policy, m_rng);
    const gradcode::two_stage_code<double> code(
        {.throughputs = m_history.throughputs(), .partitions = partitions, .stage_one_workers = decision.stage_one_workers},
        {.seed = ++m_code_seed, .decode = {}});
    const auto tau = [&](Index m) { return env.ms_per_partition[static_cast<std::size_t>(m)]; };
    std::vector<Index> finished;
    double last_stage_one = 0;
    for (Index m : decision.stage_one_workers) {
      const double arrival = static_cast<double>(code.stage_one_load(m)) * tau(m) + upload_ms;
      if (arrival <= decision.deadline) {
        finished.push_back(m);
        last_stage_one = std::max(last_stage_one, arrival);
      }
    }
    const auto two = code.stage_two(finished, decision.straggler_tolerance);
    epoch_outcome out;
    out.coded = two.coded();
    out.tolerance = two.tolerance();
    std::vector<Index> stage_two_ids;
    if (!two.coded()) {
      out.time = last_stage_one;  // every stage-1 result arrived before the deadline
    } else {
      std::vector<std::pair<double, Index>> arrivals;
      for (Index m : two.stage_two_workers()) {
        const double t = code.is_stage_one(m) ? static_cast<double>(code.stage_one_load(m)) * tau(m) + upload_ms  // still computing its block
                                              : decision.deadline + static_cast<double>(two.stage_two_load(m)) * tau(m) + upload_ms;
        arrivals.emplace_back(t, m);
      }
      std::sort(arrivals.begin(), arrivals.end());
      for (const auto& [t, m] : arrivals) {
        stage_two_ids.push_back(m);
        if (two.decodable(stage_two_ids)) {
          out.time = t;
          break;
        }
      }
    }
    // Busy time within the epoch; the history sees every started worker's progress rate.
    std::vector<double> busy(workers, 0.0);
    std::vector<gradcode::worker_observation> seen(workers);
    for (Index m = 0; m < workers; ++m) {
      const auto i = static_cast<std::size_t>(m);
      if (code.is_stage_one(m))
        busy[i] = std::min(static_cast<double>(code.stage_one_load(m)) * tau(m), out.time);
      else if (two.coded())
        busy[i] = std::clamp(out.time - decision.deadline, 0.0, static_cast<double>(two.stage_two_load(m)) * tau(m));
      if (busy[i] > 0) seen[i] = {busy[i] / tau(m), busy[i]};
    }
    utilisation(out, busy, env);
    m_history.observe_epoch(seen);
    if (partials) {
      mat one(partials->rows(), static_cast<Index>(finished.size()));
      for (std::size_t j = 0; j < finished.size(); ++j) one.col(static_cast<Index>(j)) = code.encode_stage_one(finished[j], *partials);
      mat second(partials->rows(), static_cast<Index>(stage_two_ids.size()));
      for (std::size_t j = 0; j < stage_two_ids.size(); ++j)
        second.col(static_cast<Index>(j)) = two.encode_stage_two(stage_two_ids[j], *partials);
      *gradient = two.decode(finished, one, stage_two_ids, second);
    }
    return out;
  }

 private:
  static std::vector<double> initial_throughputs() {
    std::vector<double> w;
    for (double c : cores) w.push_back(c / core_ms);  // partitions per ms, from the core counts
    return w;
  }
  const char* m_label;
  gradcode::worker_history m_history;
  gradcode::epoch_policy m_policy;
  std::mt19937_64 m_rng;
  std::uint64_t m_code_seed = 0;
};

std::vector<std::unique_ptr<scheme>> make_schemes(std::uint64_t seed, double slack) {
  std::vector<std::unique_ptr<scheme>> all;
  all.push_back(std::make_unique<tsdcfl_scheme>("TSDCFL", gradcode::stage_one_selection::random, slack, seed));
  all.push_back(std::make_unique<tsdcfl_scheme>("TSDCFL fast reserve", gradcode::stage_one_selection::slowest, slack, seed));
  all.push_back(std::make_unique<static_scheme>(
      "cyclic repetition", gradcode::cyclic_repetition_code<double>({.nodes = workers, .partitions = partitions, .tolerance = code_tolerance})));
  all.push_back(std::make_unique<static_scheme>(
      "fractional repetition",
      gradcode::fractional_repetition_code<double>({.nodes = workers, .partitions = partitions, .tolerance = code_tolerance})));
  all.push_back(std::make_unique<static_scheme>(
      "uncoded (wait for all)", gradcode::heterogeneous_code<double>({.capacities = cores, .partitions = partitions, .tolerance = 0})));
  return all;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

// ---- part 1: iteration time and utilisation ---------------------------------------------------

void compare_epoch_times(const options& o) {
  std::printf("\n[1/3] §III timing: %ld epochs, M = 6 workers with 2/2/4/4/8/8 cores, K = %ld, %g ms per partition-core, "
              "upload %g ms, 1-2 stragglers per epoch slowed %gx; CR and FR tolerate s = %ld\n",
              static_cast<long>(o.epochs), static_cast<long>(partitions), core_ms, upload_ms, straggler_slowdown,
              static_cast<long>(code_tolerance));
  auto schemes = make_schemes(o.seed, o.slack);
  const std::size_t S = schemes.size();
  std::vector<std::vector<double>> times(S);
  std::vector<double> busy(S, 0), useful(S, 0), coded(S, 0), tolerance(S, 0);
  std::vector<examples::series> curves;
  for (const auto& s : schemes) curves.push_back({s->name(), {}, {}});
  for (Index e = 0; e < o.epochs; ++e) {
    const auto env = draw_env(o.seed, e);
    for (std::size_t i = 0; i < S; ++i) {
      const auto r = schemes[i]->run(env, nullptr, nullptr);
      times[i].push_back(r.time);
      busy[i] += r.busy_share;
      useful[i] += r.useful_share;
      coded[i] += r.coded ? 1 : 0;
      tolerance[i] += static_cast<double>(r.tolerance);
      if (e < 100) {
        curves[i].x.push_back(static_cast<double>(e + 1));
        curves[i].y.push_back(r.time);
      }
    }
    if ((e + 1) % std::max<Index>(1, o.epochs / 5) == 0) {
      std::printf("  epoch %5ld:", static_cast<long>(e + 1));
      for (std::size_t i = 0; i < S; ++i) {
        double mean = 0;
        for (double t : times[i]) mean += t;
        std::printf("  %s %.2f ms", schemes[i]->name(), mean / static_cast<double>(times[i].size()));
      }
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  const double n = static_cast<double>(o.epochs);
  double cr_mean = 0;
  for (double t : times[2]) cr_mean += t / n;
  std::printf("\n  %-24s %12s %10s %10s %10s %11s %10s %9s\n", "scheme", "mean ms/ep", "median", "p95", "vs CR", "busy share",
              "useful", "coded ep.");
  for (std::size_t i = 0; i < S; ++i) {
    double mean = 0;
    for (double t : times[i]) mean += t / n;
    char coded_cell[32] = "-";
    if (i < 2) std::snprintf(coded_cell, sizeof coded_cell, "%.0f%%", 100 * coded[i] / n);
    std::printf("  %-24s %12.2f %10.2f %10.2f %9.2fx %10.0f%% %9.0f%% %9s\n", schemes[i]->name(), mean, percentile(times[i], 0.5),
                percentile(times[i], 0.95), mean / cr_mean, 100 * busy[i] / n, 100 * useful[i] / n, coded_cell);
  }
  std::printf("  (busy share: computing time / (M x epoch time); useful: K / partitions computed; TSDCFL mean stage-2 s = %.2f)\n",
              tolerance[0] / n);
  examples::write_plot(curves, o.out + "/tsdcfl_iteration_time.csv", o.out + "/tsdcfl_iteration_time.png",
                       "TSDCFL Fig. 5e: iteration time per epoch (6 workers, 1-2 stragglers)", "epoch",
                       "iteration time (simulated ms)");
}

// ---- part 2: training ------------------------------------------------------------------------

void train(const options& o) {
  if (o.train_epochs == 0) {
    std::printf("\n[2/3] training skipped (--train-epochs 0)\n");
    return;
  }
  const auto train_raw = examples::load_fashion_mnist("train", static_cast<std::size_t>(o.samples));
  const auto test_raw = examples::load_fashion_mnist("t10k", o.smoke ? 500 : 5000);
  const auto data = gradcode::split_non_iid<double>(train_raw.features, train_raw.labels, partitions, gradcode::non_iid_level::i, o.seed);
  const gradcode::softmax_regression<double> model(784, 10);
  std::printf("\n[2/3] softmax regression on Fashion-MNIST%s: %ld training / %ld test images, K = %ld partitions, d = %ld, %ld epochs\n",
              train_raw.synthetic ? " [SYNTHETIC stand-in]" : "", static_cast<long>(data.samples()), static_cast<long>(test_raw.features.rows()),
              static_cast<long>(partitions), static_cast<long>(model.parameters()), static_cast<long>(o.train_epochs));
  auto schemes = make_schemes(o.seed, o.slack);
  schemes.erase(schemes.begin() + 1);  // the paper's TSDCFL, CR, FR, uncoded
  std::vector<examples::series> by_epoch, by_time;
  std::vector<std::vector<double>> accuracy(schemes.size());
  std::vector<double> clock(schemes.size(), 0), worst_error(schemes.size(), 0);
  const double lr = 0.5 / static_cast<double>(data.samples());
  for (std::size_t i = 0; i < schemes.size(); ++i) {
    vec w = vec::Zero(model.parameters()), g(model.parameters());
    mat partials;
    examples::series ep{schemes[i]->name(), {0}, {model.accuracy(w, test_raw.features, test_raw.labels)}};
    examples::series tm{schemes[i]->name(), {0}, {ep.y[0]}};
    for (Index e = 0; e < o.train_epochs; ++e) {
      model.partial_gradients(w, data, partials);
      const auto r = schemes[i]->run(draw_env(o.seed, e), &partials, &g);
      const vec exact = partials.rowwise().sum();
      worst_error[i] = std::max(worst_error[i], (g - exact).norm() / exact.norm());
      w -= lr * g;
      clock[i] += r.time;
      const double acc = model.accuracy(w, test_raw.features, test_raw.labels);
      ep.x.push_back(static_cast<double>(e + 1));
      ep.y.push_back(acc);
      tm.x.push_back(clock[i]);
      tm.y.push_back(acc);
      accuracy[i].push_back(acc);
    }
    std::printf("  %-24s final test accuracy %.4f after %ld epochs, %.1f simulated ms, worst |g - sum g_k|/|sum g_k| = %.2e\n",
                schemes[i]->name(), accuracy[i].back(), static_cast<long>(o.train_epochs), clock[i], worst_error[i]);
    std::fflush(stdout);
    by_epoch.push_back(ep);
    by_time.push_back(tm);
  }
  double spread = 0;
  for (Index e = 0; e < o.train_epochs; ++e)
    for (std::size_t i = 1; i < schemes.size(); ++i)
      spread = std::max(spread, std::abs(accuracy[i][static_cast<std::size_t>(e)] - accuracy[0][static_cast<std::size_t>(e)]));
  std::printf("  per-epoch accuracy identical across schemes up to %.1e (exact gradients); time to finish: ", spread);
  for (std::size_t i = 0; i < schemes.size(); ++i) std::printf("%s%s %.0f ms", i ? ", " : "", schemes[i]->name(), clock[i]);
  std::printf("\n");
  examples::write_plot(by_epoch, o.out + "/tsdcfl_accuracy_epoch.csv", o.out + "/tsdcfl_accuracy_epoch.png",
                       "wang TSDCFL Fig. 6a: test accuracy per epoch (Fashion-MNIST softmax regression)", "epoch", "test accuracy");
  examples::write_plot(by_time, o.out + "/tsdcfl_accuracy_time.csv", o.out + "/tsdcfl_accuracy_time.png",
                       "wang TSDCFL Fig. 6c: test accuracy against simulated time", "simulated time (ms)", "test accuracy");
}

// ---- part 3: Lyapunov fairness scheduler -------------------------------------------------------

void schedule(const options& o) {
  std::printf("\n[3/3] §4.3 Lyapunov fairness scheduler: 6 workers, %ld slots per V, L(t) in {1, 2} channels, "
              "arrivals ~U(0, 2) per slot, workers 0-1 with the weakest channels, 10%% stragglers per slot\n",
              static_cast<long>(o.slots));
  std::printf("  %8s %18s %16s %14s %14s %14s\n", "V", "sum log2(1+d_m)", "Jain fairness", "mean sum Q", "mean battery",
              "mean R_server");
  for (double V : {0.5, 5.0, 50.0, 500.0}) {
    gradcode::lyapunov_scheduler sched({.transmit_power = {1, 1, 1.5, 1.5, 2, 2},
                                        .energy_per_cycle = std::vector<double>(workers, 0.01),
                                        .cycles_per_bit = std::vector<double>(workers, 0.1),
                                        .battery_capacity = std::vector<double>(workers, 20.0),
                                        .slot_length = 1,
                                        .tradeoff = V});
    std::mt19937_64 rng(o.seed);
    std::uniform_real_distribution<double> u(0, 1);
    for (Index t = 0; t < o.slots; ++t) {
      gradcode::slot_observation obs;
      for (Index m = 0; m < workers; ++m) {
        obs.arrivals.push_back(2 * u(rng));
        obs.capacity.push_back((m < 2 ? 0.8 : 2.0) * (0.5 + u(rng)));
        obs.harvest.push_back(1.6 * u(rng));
        obs.cpu_cycles.push_back(50);
        obs.new_cycles.push_back(60 * u(rng));
        obs.active.push_back(u(rng) < 0.9 ? 1 : 0);
      }
      obs.channels = u(rng) < 0.5 ? 1 : 2;
      obs.server_cycles = 1;
      if (t == o.slots / 2) sched.reset_statistics();  // time averages over the second half
      sched.step(obs);
    }
    const auto& st = sched.statistics();
    double sum = 0, squares = 0, backlog = 0, battery = 0;
    for (Index m = 0; m < workers; ++m) {
      const auto i = static_cast<std::size_t>(m);
      sum += st.mean_admitted[i];
      squares += st.mean_admitted[i] * st.mean_admitted[i];
      backlog += st.mean_backlog[i];
      battery += st.mean_battery[i] / static_cast<double>(workers);
    }
    std::printf("  %8g %18.3f %16.3f %14.1f %14.2f %14.2f\n", V, st.admission_utility(),
                sum * sum / (static_cast<double>(workers) * squares), backlog, battery, st.mean_server_backlog);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::filesystem::create_directories(o.out);
  std::printf("wang TSDCFL §III%s (seed %llu, output in %s)\n", o.smoke ? " (smoke)" : "", static_cast<unsigned long long>(o.seed),
              o.out.c_str());
  compare_epoch_times(o);
  train(o);
  schedule(o);
  return 0;
}
