// SPDX-License-Identifier: MIT
// How well each code family decodes in float and double as n grows (issue 16): for n ∈ {10, 40,
// 100, 200, 500, 1000} and s ∈ {1, 5, 10, 20} % of n, samples straggler patterns of exactly s
// stragglers (core/condition_report.hpp), and prints the worst and median amplification and the
// share of patterns float and double refuse, and the largest per-worker load (partitions, K = n);
// HGC at N = n·m workers (n = m) by layer. Writes condition_table.csv and condition_table.png (worst
// amplification against n at s = 10 %). Fractional repetition works for every n (mixed group sizes
// when (s + 1) does not divide n); "fractional repetition stable" is it with max_amplification = 50:
// its groups whose own worst A exceeds 50 replicate their range (more load, shown). Sampled rows
// rarely put all s stragglers in one group; "worst group A" is that worst case's group figure.
//
//   gradcode_condition_table [--max-nodes N] [--nodes LIST] [--tolerances LIST] [--codes LIST]
//                            [--samples S] [--seed X] [--out DIR] [--smoke]
//   e.g. --nodes 40,100,200 --tolerances 2,5,10,20,40 --codes "fractional repetition" (prefix match)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gradcode/codes/cyclic_mds.hpp>
#include <gradcode/codes/cyclic_repetition.hpp>
#include <gradcode/codes/fractional_repetition.hpp>
#include <gradcode/core/condition_report.hpp>
#include <gradcode/core/errors.hpp>
#include <gradcode/hierarchical/hgc.hpp>

#include "common/flags.hpp"
#include "common/plot.hpp"

namespace {

using gradcode::Index;

struct options {
  Index max_nodes = 200;
  Index samples = 200;
  std::uint64_t seed = 1;
  std::string out = ".";
  bool smoke = false;
  std::vector<long long> nodes;       // empty: 10, 40, 100, 200, 500, 1000 (up to max_nodes)
  std::vector<long long> tolerances;  // empty: 1, 5, 10, 20 % of n
  std::vector<std::string> codes;     // empty: every family; else name prefixes ("HGC" for the HGC rows)

  bool wants(const std::string& name) const {
    if (codes.empty()) return true;
    for (const auto& c : codes)
      if (name.compare(0, c.size(), c) == 0) return true;
    return false;
  }
};

options parse(int argc, char** argv) {
  options o;
  examples::flags f(argc, argv,
                    "usage: %s [--max-nodes N (200; the issue's table: 1000)] [--nodes LIST] [--tolerances LIST] "
                    "[--codes NAME-PREFIXES] [--samples S (200)] [--seed X] [--out DIR] [--smoke]\n");
  while (f.next()) {
    if (f.is("--max-nodes"))
      o.max_nodes = f.integer();
    else if (f.is("--nodes"))
      o.nodes = f.integers();
    else if (f.is("--tolerances"))
      o.tolerances = f.integers();
    else if (f.is("--codes"))
      o.codes = f.words();
    else if (f.is("--samples"))
      o.samples = f.integer();
    else if (f.is("--seed"))
      o.seed = f.unsigned_integer();
    else if (f.is("--out"))
      o.out = f.text();
    else if (f.is("--smoke"))
      o.smoke = true;
    else
      f.unknown();
  }
  if (o.smoke) o.max_nodes = std::min<Index>(o.max_nodes, 40), o.samples = std::min<Index>(o.samples, 20);
  return o;
}

struct row {
  std::string code;
  Index n = 0, s = 0;
  gradcode::condition_report r;
  double seconds = 0;            // construction and every solve
  std::string note;              // why a code has no row here (its construction does not apply)
  gradcode::Index max_load = 0;  // partitions on the busiest worker (K = n: s + 1 at the minimum load)
  std::string detail;            // e.g. how many groups the stable fractional repetition code replicated
};

/// condition_of(code) and its largest per-worker load, into x.
template <class Code>
void measure(const Code& code, const gradcode::condition_options& copt, row& x) {
  x.r = gradcode::condition_of(code, copt);
  for (Index i = 0; i < code.nodes(); ++i) x.max_load = std::max(x.max_load, code.load(i));
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void print(const row& x) {
  if (!x.note.empty()) {
    std::printf("%-29s %5lld %4lld   %s\n", x.code.c_str(), static_cast<long long>(x.n), static_cast<long long>(x.s),
                x.note.c_str());
    return;
  }
  std::printf("%-29s %5lld %4lld %6lld%s %10.3g %10.3g %10.3g %8.1f %% %8.1f %% %6lld %8.2f  %s\n", x.code.c_str(),
              static_cast<long long>(x.n), static_cast<long long>(x.s), static_cast<long long>(x.r.patterns),
              x.r.exhaustive ? "*" : " ", x.r.worst, x.r.median, x.r.p99, 100 * x.r.share_refused_float(),
              100 * x.r.share_refused_double(), static_cast<long long>(x.max_load), x.seconds, x.detail.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  const gradcode::condition_options copt{.samples = o.samples, .seed = o.seed};
  std::vector<row> rows;
  std::printf("%-29s %5s %4s %7s %10s %10s %10s %10s %10s %6s %8s\n", "code", "n", "s", "pattern", "worst A", "median A", "p99 A",
              "float ref", "double ref", "load", "seconds");
  std::printf(
      "(* every pattern; A = rounding amplification of the decode; refused: 4·ε·A above 1e-4 (float) / 1e-9 (double);\n"
      " load = partitions on the busiest worker, K = n)\n");

  // Each builder fills x.r and x.max_load, or x.note when its construction does not apply.
  using builder = std::function<void(Index n, Index s, row & x)>;
  const auto fractional = [&](double limit) {
    return [&copt, limit](Index n, Index s, row& x) {
      const gradcode::fractional_repetition_code<double> code(
          {.nodes = n, .partitions = n, .tolerance = s, .max_amplification = limit});
      measure(code, copt, x);
      const Index cyclic =
          static_cast<Index>(std::count_if(code.group_list().begin(), code.group_list().end(), [](const auto& g) {
            return g.kind != gradcode::fractional_repetition_group::layout::repetition;
          }));
      x.detail = std::to_string(code.groups()) + " groups";
      if (cyclic > 0) x.detail += ", " + std::to_string(cyclic) + " of more than s + 1 nodes";
      if (limit > 0 && cyclic > 0) {
        double above = 0;      // the best cyclic A that was still above the limit
        bool sampled = false;  // a group kept cyclic was measured on samples only
        for (const auto& g : code.group_list()) {
          if (g.kind == gradcode::fractional_repetition_group::layout::replicated)
            above = above == 0 ? g.cyclic_amplification : std::min(above, g.cyclic_amplification);
          sampled = sampled || (!g.exhaustive && g.kind == gradcode::fractional_repetition_group::layout::cyclic);
        }
        char buf[160];
        std::snprintf(buf, sizeof buf, ", %lld replicated", static_cast<long long>(code.replicated_groups()));
        x.detail += buf;
        if (above > 0) std::snprintf(buf, sizeof buf, " (cyclic worst A >= %.3g)", above), x.detail += buf;
        std::snprintf(buf, sizeof buf, "; worst group A %.3g%s", code.worst_group_amplification(),
                      sampled ? ", some sampled" : "");
        x.detail += buf;
      }
    };
  };
  const std::vector<std::pair<std::string, builder>> families{
      // +∞: the minimum-load code (nothing replicated), its groups measured for the detail column.
      {"fractional repetition", fractional(std::numeric_limits<double>::infinity())},
      {"fractional repetition stable", fractional(50)},
      {"cyclic repetition",
       [&](Index n, Index s, row& x) {
         measure(gradcode::cyclic_repetition_code<double>({.nodes = n, .partitions = n, .tolerance = s}), copt, x);
       }},
      {"cyclic repetition tandon",
       [&](Index n, Index s, row& x) {
         measure(gradcode::cyclic_repetition_code<double>(
                     {.nodes = n, .partitions = n, .tolerance = s, .method = gradcode::construction::tandon_random}),
                 copt, x);
       }},
      {"cyclic MDS",
       [&](Index n, Index s, row& x) {
         if ((n - s) % 2 == 0) {
           x.note = "n - s even: the real cyclic MDS code needs it odd";
           return;
         }
         measure(gradcode::cyclic_mds_code<double>({.nodes = n, .partitions = n, .tolerance = s}), copt, x);
       }},
  };
  std::map<std::string, examples::series> worst_at_10;
  const std::vector<long long> node_counts = o.nodes.empty() ? std::vector<long long>{10, 40, 100, 200, 500, 1000} : o.nodes;
  for (const long long n : node_counts) {
    if (n > o.max_nodes) continue;
    std::vector<Index> tolerances;
    if (o.tolerances.empty()) {
      for (int percent : {1, 5, 10, 20}) {
        const Index s = std::max<Index>(1, static_cast<Index>(std::lround(static_cast<double>(n) * percent / 100.0)));
        if (tolerances.empty() || s != tolerances.back()) tolerances.push_back(s);  // small n: percentages round alike
      }
    } else {
      tolerances.assign(o.tolerances.begin(), o.tolerances.end());
    }
    const Index ten_percent = std::max<Index>(1, static_cast<Index>(std::lround(static_cast<double>(n) / 10.0)));
    for (const Index s : tolerances) {
      for (const auto& [name, build] : families) {
        if (!o.wants(name)) continue;
        row x;
        x.code = name, x.n = n, x.s = s;
        const auto t0 = std::chrono::steady_clock::now();
        std::fprintf(stderr, "[condition] %s n = %lld s = %lld …\n", name.c_str(), static_cast<long long>(n),
                     static_cast<long long>(s));
        try {
          build(n, s, x);
        } catch (const gradcode::invalid_parameters& e) {
          x.note = std::string("invalid_parameters: ") + e.what();
        }
        x.seconds = seconds_since(t0);
        print(x);
        if (x.note.empty() && s == ten_percent) {
          auto& curve = worst_at_10[name];
          curve.label = name;
          curve.x.push_back(static_cast<double>(n));
          curve.y.push_back(x.r.worst);
        }
        rows.push_back(std::move(x));
      }
    }
  }
  // HGC on N = n·m workers (n = m edges and workers per edge), K = N, s_e = s_w = 10 % of n (≥ 1).
  for (Index n : {4, 10, 20, 32}) {
    if (!o.wants("HGC") || (o.smoke && n > 10)) break;
    const Index s = std::max<Index>(1, n / 10);
    const auto t0 = std::chrono::steady_clock::now();
    std::fprintf(stderr, "[condition] HGC %lld x %lld …\n", static_cast<long long>(n), static_cast<long long>(n));
    const gradcode::hgc_code<double> code(gradcode::hgc_params{.workers = std::vector<Index>(static_cast<std::size_t>(n), n),
                                                               .partitions = n * n,
                                                               .edge_tolerance = s,
                                                               .worker_tolerance = s});
    const auto layers = gradcode::condition_of_layers(code, copt);
    double edge_worst = 0;
    for (const auto& e : layers.edges) edge_worst = std::max(edge_worst, e.worst);
    std::printf(
        "HGC %lld x %lld (N = %lld), s_e = s_w = %lld: master worst A %.3g, edges worst %.3g, compounded %.3g "
        "(float %s, double %s) in %.2f s\n",
        static_cast<long long>(n), static_cast<long long>(n), static_cast<long long>(n * n), static_cast<long long>(s),
        layers.master.worst, edge_worst, layers.compounded_worst, layers.float_accepts_worst ? "accepts" : "refuses",
        layers.double_accepts_worst ? "accepts" : "refuses", seconds_since(t0));
  }
  {
    std::ofstream csv(o.out + "/condition_table.csv");
    csv << "code,n,s,patterns,exhaustive,worst,median,p90,p99,not_spanning,refused_float,refused_double,max_load,seconds,note\n";
    for (const auto& x : rows)
      csv << '"' << x.code << "\"," << x.n << ',' << x.s << ',' << x.r.patterns << ',' << x.r.exhaustive << ',' << x.r.worst
          << ',' << x.r.median << ',' << x.r.p90 << ',' << x.r.p99 << ',' << x.r.not_spanning << ',' << x.r.refused_float << ','
          << x.r.refused_double << ',' << x.max_load << ',' << x.seconds << ",\"" << x.note << "\"\n";
  }
  std::vector<examples::series> curves;
  for (auto& [name, c] : worst_at_10) curves.push_back(c);
  examples::write_plot(curves, o.out + "/condition_table_worst.csv", o.out + "/condition_table.png",
                       "worst decode amplification, s = 10 % of n", "n (workers)", "worst amplification A", true, true);
  std::printf("wrote %s/condition_table.csv\n", o.out.c_str());
  return 0;
}
