// SPDX-License-Identifier: MIT
// Shared by every bench/<area>_bench.cpp: the roofline baselines (a STREAM triad per size and an
// in-cache Eigen GEMM per scalar type) and a main whose reporter adds `of_triad` and
// `of_roofline` counters to every result (STYLE.md "Benchmarks").
//
// BYTE ACCOUNTING (all gradcode benchmarks): SetBytesProcessed = the minimum memory traffic of
// the kernel = every d-vector it reads, counted once, + the d-vector it writes, counted once.
// Write-allocate traffic and cache misses on small metadata are not counted. So the triad
// a = b + s·c is 3·d·sizeof(T) per call, an encode over `load` held partitions (load + 1)·d·
// sizeof(T), a decode from f messages (f + 1)·d·sizeof(T). SetItemsProcessed = gradient
// elements (d per call).
//
// FLOP ACCOUNTING: set_work(state, bytes, flops) sets the bytes above and a `flops_per_second`
// counter from the floating-point operations one call performs (a real multiply-add = 2, a
// complex multiply-add = 8; each benchmark writes its count beside the call), plus the
// arithmetic intensity `intensity` = flops / bytes (flop per byte).
//
// of_triad = bytes_per_second / bytes_per_second of BM_triad<T>/d:<d>, with the same scalar tag
// <T> in the name and the same "d:" argument: how close a kernel gets to what this machine's
// memory system gives a plain streaming loop at the same size, in one run. It appears only on
// results that set bytes, carry a "d:" argument and whose triad has already run (triads are
// registered first, so they run first unless --benchmark_enable_random_interleaving is set).
// For repetitions: single runs are divided by the triad's mean over its repetitions, _mean and
// _median aggregates by the triad's _mean and _median, _stddev by the triad's _mean (so it is
// the spread of of_triad itself), and _cv is the cv of bytes_per_second (a constant denominator
// does not change it).
//
// ROOFLINE: peak = flops_per_second of BM_gemm<T>/n:<gemm_size> (an Eigen n × n product, 2·n³
// flops per call, all three matrices in L2), bandwidth = bytes_per_second of the triad at the
// same T and d. For a result with intensity I = flops / bytes and achieved flop rate F:
//   attainable  = min(peak, I · bandwidth)
//   of_roofline = F / attainable = max(F / peak, of_triad)
// — 1 means the kernel runs at whichever bound applies at its intensity (it can exceed 1 where
// a kernel beats the triad, e.g. a working set the triad's does not fit). Results that set bytes
// but no flops (memcpy, and codes_bench's kernels, which call SetBytesProcessed directly) are
// bandwidth-bound by definition: of_roofline = of_triad. Same conditions as of_triad (bytes, "d:", triad run) plus, with flops,
// the GEMM of the same T having run (registered before the triads). Single runs and _mean/_median aggregates use the matching
// baseline (mean of single runs, or the baseline's own _mean/_median); _stddev and _cv get no of_roofline (a max of two ratios
// has no stddev of its own; read the of_triad/flops_per_second spreads).
//
// Usage in bench/<area>_bench.cpp:
//
//   #include "bench_common.hpp"
//   namespace { const bool triads = gradcode_bench::register_triad({10'000, 1'000'000}); }
//   ... BENCHMARK(...) or RegisterBenchmark(...) after that line (static-init order) ...
//   ... in each benchmark, after the loop: gradcode_bench::set_work(state, bytes, flops) ...
//   GRADCODE_BENCHMARK_MAIN();
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Dense>

namespace gradcode_bench {

/// Name tag of a scalar type in benchmark names: BM_triad<float>, BM_x_encode<double>/d:…
template <class T>
constexpr const char* scalar_name() {
  if constexpr (std::is_same_v<T, float>)
    return "float";
  else if constexpr (std::is_same_v<T, double>)
    return "double";
  else
    static_assert(sizeof(T) == 0, "add a name for this scalar type");
}

/// 64-byte aligned, uninitialised buffer of T (freed with std::free).
template <class T>
struct aligned_buffer {
  explicit aligned_buffer(std::size_t n)
      : data(static_cast<T*>(std::aligned_alloc(64, (n * sizeof(T) + 63) / 64 * 64)), &std::free) {
    if (!data) throw std::bad_alloc();
  }
  T* get() const noexcept { return data.get(); }
  std::unique_ptr<T, decltype(&std::free)> data;
};

/// STREAM triad a = b + s·c over d elements (range(0)); 3·d·sizeof(T) bytes per call.
template <class T>
void BM_triad(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  aligned_buffer<T> a(d), b(d), c(d);
  for (std::size_t i = 0; i < d; ++i) {  // first touch outside the timed loop
    a.get()[i] = T(0);
    b.get()[i] = static_cast<T>(1 + i % 7);
    c.get()[i] = static_cast<T>(1 + i % 5);
  }
  const T s = T(0.5);
  T* __restrict pa = a.get();
  const T* __restrict pb = b.get();
  const T* __restrict pc = c.get();
  for (auto _ : state) {
    for (std::size_t i = 0; i < d; ++i) pa[i] = pb[i] + s * pc[i];
    benchmark::DoNotOptimize(pa);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(3 * d * sizeof(T)));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(d));
}

/// Side of the GEMM that measures the floating-point peak: 192 × 192 (3 matrices = 432 KiB in
/// float, 864 KiB in double, in this machine's 2 MiB L2). Measured on the 2-core AVX-512 Xeon
/// (lscpu: L2 2 MiB/core) over n ∈ {64, 96, 128, 192, 256, 384, 512}: 192 gave the highest
/// float rate (108 GFLOP/s vs 102 at 128, 74 at 256 — a power-of-two aliasing dip) and a double
/// rate within noise of the best (51.7 vs 52.9 GFLOP/s at 256).
inline constexpr std::int64_t gemm_size = 192;

/// The floating-point peak: C = A·B with n × n Eigen matrices (range(0) = n), 2·n³ flops per
/// call as `flops_per_second`. No bytes (it is compute-bound by construction).
template <class T>
void BM_gemm(benchmark::State& state) {
  using mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  const auto n = static_cast<Eigen::Index>(state.range(0));
  mat a(n, n), b(n, n), c = mat::Zero(n, n);
  for (Eigen::Index i = 0; i < a.size(); ++i) {  // fixed values, no RNG
    a.data()[i] = static_cast<T>(1 + i % 7) / T(7);
    b.data()[i] = static_cast<T>(1 + i % 5) / T(5);
  }
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["flops_per_second"] =
      benchmark::Counter(2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n),
                         benchmark::Counter::kIsIterationInvariantRate);
}

/// Registers BM_gemm<T>/n:<gemm_size> once per T, then BM_triad<T>/d:<size> for each size and
/// each T (float and double when none given). Call at static-init time before the file's own
/// registrations so the baselines run first: `const bool triads = gradcode_bench::register_triad({…});`
template <class... Scalars>
bool register_triad(const std::vector<std::int64_t>& sizes) {
  if constexpr (sizeof...(Scalars) == 0) {
    return register_triad<float, double>(sizes);
  } else {
    auto gemm = [&]<class T>() {
      const std::string name = std::string("BM_gemm<") + scalar_name<T>() + ">";
      benchmark::RegisterBenchmark(name.c_str(), &BM_gemm<T>)->ArgName("n")->Arg(gemm_size)->Unit(benchmark::kMicrosecond);
    };
    auto one = [&]<class T>() {
      const std::string name = std::string("BM_triad<") + scalar_name<T>() + ">";
      auto* b = benchmark::RegisterBenchmark(name.c_str(), &BM_triad<T>);
      b->ArgName("d")->Unit(benchmark::kMicrosecond);
      for (auto d : sizes) b->Arg(d);
    };
    (gemm.template operator()<Scalars>(), ...);
    (one.template operator()<Scalars>(), ...);
    return true;
  }
}

/// After the timed loop: SetBytesProcessed(iterations · bytes) and, when flops > 0, the
/// `flops_per_second` rate (flops per call) and `intensity` = flops / bytes (flop per byte) that
/// the reporter's of_roofline reads. `bytes` and `flops` are per call (one iteration).
inline void set_work(benchmark::State& state, std::int64_t bytes, double flops) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * bytes);
  if (flops > 0) {
    state.counters["flops_per_second"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
    if (bytes > 0) state.counters["intensity"] = benchmark::Counter(flops / static_cast<double>(bytes));
  }
}

namespace detail {

/// Splits a run name "BM_x<float>/d:1000/K:9" at '/'.
inline std::vector<std::string_view> name_parts(std::string_view name) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto slash = name.find('/', start);
    parts.push_back(name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

/// Wraps a reporter (console, JSON, CSV) and adds `of_triad` and `of_roofline` before
/// forwarding each run.
class triad_ratio_reporter final : public benchmark::BenchmarkReporter {
 public:
  /// `inner` is used, not owned (the library's default display reporter is a static singleton).
  explicit triad_ratio_reporter(benchmark::BenchmarkReporter* inner) : m_inner(inner), m_buffer(is_csv(inner)) {}

  bool ReportContext(const Context& context) override {
    // The library points *our* streams at the --benchmark_out file before this call.
    m_inner->SetOutputStream(&GetOutputStream());
    m_inner->SetErrorStream(&GetErrorStream());
    return m_inner->ReportContext(context);
  }

  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> annotated = runs;
    remember_baselines(annotated);
    for (auto& run : annotated) annotate(run);
    if (m_buffer)
      m_pending.insert(m_pending.end(), annotated.begin(), annotated.end());
    else
      m_inner->ReportRuns(annotated);
  }

  void Finalize() override {
    if (!m_pending.empty()) m_inner->ReportRuns(m_pending);
    m_pending.clear();
    m_inner->Finalize();
  }

 private:
  /// A baseline's rate: bytes/s of a triad, flops/s of the GEMM.
  struct baseline {
    double iteration_mean = 0;                 // mean rate over its single runs
    std::map<std::string, double> aggregates;  // rate of its _mean, _median, … aggregates
    /// The denominator for `run` (of_triad rules, header comment); 0 when there is none.
    double for_run(const Run& run) const {
      auto aggregate = [&](const std::string& which) {
        const auto it = aggregates.find(which);
        return it == aggregates.end() ? 0.0 : it->second;
      };
      if (run.run_type != Run::RT_Aggregate) return iteration_mean > 0 ? iteration_mean : aggregate("mean");
      double denominator = run.aggregate_name == "stddev" ? 0.0 : aggregate(run.aggregate_name);
      if (!(denominator > 0)) denominator = aggregate("mean");
      if (!(denominator > 0)) denominator = iteration_mean;
      return denominator;
    }
  };
  using key = std::pair<std::string, std::string>;  // (scalar tag, d value; empty for the GEMM)

  // The CSV reporter fixes its columns from the first ReportRuns call and aborts when a later
  // run has a counter it has not seen (triads lack the kernels' counters), so it gets all runs
  // in one call at Finalize.
  static bool is_csv(benchmark::BenchmarkReporter* reporter) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    return dynamic_cast<benchmark::CSVReporter*>(reporter) != nullptr;
#pragma GCC diagnostic pop
  }

  static bool is_triad(const std::vector<std::string_view>& parts) { return parts[0].starts_with("BM_triad<"); }
  static bool is_gemm(const std::vector<std::string_view>& parts) { return parts[0].starts_with("BM_gemm<"); }

  static std::string d_value(const std::vector<std::string_view>& parts) {
    for (std::size_t i = 1; i < parts.size(); ++i)
      if (parts[i].starts_with("d:")) return std::string(parts[i].substr(2));
    return {};
  }

  static std::string scalar_tag(std::string_view first) {
    const auto open = first.find('<'), close = first.rfind('>');
    if (open == std::string_view::npos || close == std::string_view::npos || close <= open) return {};
    return std::string(first.substr(open + 1, close - open - 1));
  }

  static const benchmark::Counter* counter(const Run& run, const char* name) {
    if (run.error_occurred) return nullptr;
    const auto it = run.counters.find(name);
    return it == run.counters.end() ? nullptr : &it->second;
  }
  static const benchmark::Counter* bytes(const Run& run) { return counter(run, "bytes_per_second"); }
  static const benchmark::Counter* flops(const Run& run) { return counter(run, "flops_per_second"); }

  static void remember(std::map<key, baseline>& into, const std::vector<Run>& runs, bool gemm) {
    std::map<key, std::pair<double, int>> sums;
    for (const auto& run : runs) {
      const std::string name = run.run_name.str();
      const auto parts = name_parts(name);
      const auto* rate = gemm ? flops(run) : bytes(run);
      if (!(gemm ? is_gemm(parts) : is_triad(parts)) || !rate) continue;
      key k{scalar_tag(parts[0]), gemm ? std::string() : d_value(parts)};
      if (k.first.empty() || (!gemm && k.second.empty())) continue;
      if (run.run_type == Run::RT_Aggregate) {
        into[k].aggregates[run.aggregate_name] = rate->value;
      } else {
        auto& [sum, count] = sums[k];
        sum += rate->value;
        ++count;
      }
    }
    for (const auto& [k, sc] : sums) into[k].iteration_mean = sc.first / sc.second;
  }

  void remember_baselines(const std::vector<Run>& runs) {
    remember(m_triads, runs, false);
    remember(m_peaks, runs, true);
  }

  /// The one baseline whose scalar tag appears as "<tag>" in the name's first part (and whose d
  /// matches, for triads); null when none or ambiguous (two tags in one name).
  static const baseline* find(const std::map<key, baseline>& in, std::string_view first, const std::string& d) {
    const baseline* entry = nullptr;
    for (const auto& [k, e] : in) {
      if (k.second != d || first.find("<" + k.first + ">") == std::string_view::npos) continue;
      if (entry) return nullptr;
      entry = &e;
    }
    return entry;
  }

  void annotate(Run& run) const {
    const auto* b = bytes(run);
    if (!b) return;
    const std::string name = run.run_name.str();
    const auto parts = name_parts(name);
    const std::string d = d_value(parts);
    if (d.empty()) return;
    const baseline* triad = find(m_triads, parts[0], d);
    if (!triad) return;
    double ratio = 0;
    if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "cv") {
      ratio = b->value;
    } else if (const double denominator = triad->for_run(run); denominator > 0) {
      ratio = b->value / denominator;
    }
    if (ratio > 0) run.counters["of_triad"] = benchmark::Counter(ratio);
    if (!(ratio > 0) || is_triad(parts)) return;
    if (run.run_type == Run::RT_Aggregate && (run.aggregate_name == "stddev" || run.aggregate_name == "cv")) return;
    // of_roofline = F / min(peak, I·bandwidth) = max(F / peak, of_triad); bytes without flops: of_triad.
    const auto* f = flops(run);
    if (!f || !(f->value > 0)) {
      run.counters["of_roofline"] = benchmark::Counter(ratio);
      return;
    }
    const baseline* peak = find(m_peaks, parts[0], std::string());
    const double peak_rate = peak ? peak->for_run(run) : 0.0;
    if (peak_rate > 0) run.counters["of_roofline"] = benchmark::Counter(std::max(f->value / peak_rate, ratio));
  }

  benchmark::BenchmarkReporter* m_inner;
  bool m_buffer;
  std::vector<Run> m_pending;
  std::map<key, baseline> m_triads, m_peaks;
};

/// Last `--name=value` in argv, else the environment variable the library also reads
/// (BENCHMARK_<NAME>), else `fallback`. Must run before benchmark::Initialize strips the flags.
inline std::string flag_value(int argc, char** argv, const char* name, const char* fallback) {
  const std::string prefix = std::string("--") + name + "=";
  std::string value;
  bool found = false;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      value = argv[i] + prefix.size();
      found = true;
    }
  if (found) return value;
  std::string env = name;
  for (auto& ch : env) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (const char* e = std::getenv(env.c_str())) return e;
  return fallback;
}

inline std::unique_ptr<benchmark::BenchmarkReporter> make_file_reporter(const std::string& format) {
  if (format == "json") return std::make_unique<benchmark::JSONReporter>();
  if (format == "console") return std::make_unique<benchmark::ConsoleReporter>(benchmark::ConsoleReporter::OO_None);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (format == "csv") return std::make_unique<benchmark::CSVReporter>();
#pragma GCC diagnostic pop
  return nullptr;  // unknown: let the library report the bad flag itself
}

}  // namespace detail

/// The body of GRADCODE_BENCHMARK_MAIN: BENCHMARK_MAIN with the of_triad reporters. The display
/// reporter is the library's own (honours --benchmark_format, --benchmark_color,
/// --benchmark_counters_tabular); with --benchmark_out the file reporter is built from
/// --benchmark_out_format (json, console, csv) and wrapped the same way.
inline int run_main(int argc, char** argv) {
  const std::string out = detail::flag_value(argc, argv, "benchmark_out", "");
  const std::string out_format = detail::flag_value(argc, argv, "benchmark_out_format", "json");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  detail::triad_ratio_reporter display(benchmark::CreateDefaultDisplayReporter());
  std::unique_ptr<benchmark::BenchmarkReporter> file_inner = out.empty() ? nullptr : detail::make_file_reporter(out_format);
  std::unique_ptr<detail::triad_ratio_reporter> file;
  if (file_inner) file = std::make_unique<detail::triad_ratio_reporter>(file_inner.get());
  benchmark::RunSpecifiedBenchmarks(&display, file.get());
  benchmark::Shutdown();
  return 0;
}

}  // namespace gradcode_bench

/// main() for a gradcode benchmark binary (use instead of BENCHMARK_MAIN()).
#define GRADCODE_BENCHMARK_MAIN()                                                    \
  int main(int argc, char** argv) { return ::gradcode_bench::run_main(argc, argv); } \
  int main(int, char**)
