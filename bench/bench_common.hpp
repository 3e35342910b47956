// SPDX-License-Identifier: MIT
// Shared by every bench/<area>_bench.cpp: the triad baseline and a main whose reporter adds an
// `of_triad` counter to every result (STYLE.md "Benchmarks").
//
// BYTE ACCOUNTING (all gradcode benchmarks): SetBytesProcessed = the minimum memory traffic of
// the kernel = every d-vector it reads, counted once, + the d-vector it writes, counted once.
// Write-allocate traffic and cache misses on small metadata are not counted. So the triad
// a = b + s·c is 3·d·sizeof(T) per call, an encode over `load` held partitions (load + 1)·d·
// sizeof(T), a decode from f messages (f + 1)·d·sizeof(T). SetItemsProcessed = gradient
// elements (d per call).
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
// Usage in bench/<area>_bench.cpp:
//
//   #include "bench_common.hpp"
//   namespace { const bool triads = gradcode_bench::register_triad({10'000, 1'000'000}); }
//   ... BENCHMARK(...) or RegisterBenchmark(...) after that line (static-init order) ...
//   GRADCODE_BENCHMARK_MAIN();
#pragma once

#include <benchmark/benchmark.h>

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

/// Registers BM_triad<T>/d:<size> for each size and each T (float and double when none given).
/// Call at static-init time before the file's own registrations so the triads run first:
/// `const bool triads = gradcode_bench::register_triad({…});`
template <class... Scalars>
bool register_triad(const std::vector<std::int64_t>& sizes) {
  if constexpr (sizeof...(Scalars) == 0) {
    return register_triad<float, double>(sizes);
  } else {
    auto one = [&]<class T>() {
      const std::string name = std::string("BM_triad<") + scalar_name<T>() + ">";
      auto* b = benchmark::RegisterBenchmark(name.c_str(), &BM_triad<T>);
      b->ArgName("d")->Unit(benchmark::kMicrosecond);
      for (auto d : sizes) b->Arg(d);
    };
    (one.template operator()<Scalars>(), ...);
    return true;
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

/// Wraps a reporter (console, JSON, CSV) and adds `of_triad` before forwarding each run.
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
    remember_triads(annotated);
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
  struct triad_entry {
    double iteration_mean = 0;                 // mean bytes/s over the triad's single runs
    std::map<std::string, double> aggregates;  // bytes/s of its _mean, _median, … aggregates
  };
  using key = std::pair<std::string, std::string>;  // (scalar tag, d value)

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

  static std::string d_value(const std::vector<std::string_view>& parts) {
    for (std::size_t i = 1; i < parts.size(); ++i)
      if (parts[i].starts_with("d:")) return std::string(parts[i].substr(2));
    return {};
  }

  static const benchmark::Counter* bytes(const Run& run) {
    if (run.error_occurred) return nullptr;
    const auto it = run.counters.find("bytes_per_second");
    return it == run.counters.end() ? nullptr : &it->second;
  }

  void remember_triads(const std::vector<Run>& runs) {
    std::map<key, std::pair<double, int>> sums;
    for (const auto& run : runs) {
      const std::string name = run.run_name.str();
      const auto parts = name_parts(name);
      const auto* b = bytes(run);
      if (!is_triad(parts) || !b) continue;
      const auto open = parts[0].find('<'), close = parts[0].rfind('>');
      if (close == std::string_view::npos || close <= open) continue;
      key k{std::string(parts[0].substr(open + 1, close - open - 1)), d_value(parts)};
      if (k.second.empty()) continue;
      if (run.run_type == Run::RT_Aggregate) {
        m_triads[k].aggregates[run.aggregate_name] = b->value;
      } else {
        auto& [sum, count] = sums[k];
        sum += b->value;
        ++count;
      }
    }
    for (const auto& [k, sc] : sums) m_triads[k].iteration_mean = sc.first / sc.second;
  }

  void annotate(Run& run) const {
    const auto* b = bytes(run);
    if (!b) return;
    const std::string name = run.run_name.str();
    const auto parts = name_parts(name);
    const std::string d = d_value(parts);
    if (d.empty()) return;
    const triad_entry* entry = nullptr;
    for (const auto& [k, e] : m_triads) {
      if (k.second != d || parts[0].find("<" + k.first + ">") == std::string_view::npos) continue;
      if (entry) return;  // two scalar tags in one name: ambiguous, leave it alone
      entry = &e;
    }
    if (!entry) return;
    auto aggregate = [&](const char* which) {
      const auto it = entry->aggregates.find(which);
      return it == entry->aggregates.end() ? 0.0 : it->second;
    };
    double ratio = 0;
    if (run.run_type != Run::RT_Aggregate) {
      const double denominator = entry->iteration_mean > 0 ? entry->iteration_mean : aggregate("mean");
      if (denominator > 0) ratio = b->value / denominator;
    } else if (run.aggregate_name == "cv") {
      ratio = b->value;
    } else {
      double denominator = run.aggregate_name == "stddev" ? 0.0 : aggregate(run.aggregate_name.c_str());
      if (!(denominator > 0)) denominator = aggregate("mean");
      if (!(denominator > 0)) denominator = entry->iteration_mean;
      if (denominator > 0) ratio = b->value / denominator;
    }
    if (ratio > 0) run.counters["of_triad"] = benchmark::Counter(ratio);
  }

  benchmark::BenchmarkReporter* m_inner;
  bool m_buffer;
  std::vector<Run> m_pending;
  std::map<key, triad_entry> m_triads;
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
#define GRADCODE_BENCHMARK_MAIN()                                                       \
  int main(int argc, char** argv) { return ::gradcode_bench::run_main(argc, argv); } \
  int main(int, char**)
