// SPDX-License-Identifier: MIT
// gradcode_reproduce (issue 18): the evaluation figures and tables of the four papers from one
// command. `--list` names them (and those it cannot make), `<id>` makes one, `all` makes every one.
//
//   gradcode_reproduce --list
//   gradcode_reproduce <id>|all [--quick] [--out DIR] [--seed N]
//   gradcode_reproduce --smoke            (= all --quick over one figure per paper, see below)
//   gradcode_reproduce --check-ids a,b,c  (exit 1 unless the registry is exactly these ids)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "common/flags.hpp"
#include "reproduce/registry.hpp"

namespace {

constexpr const char* usage_text =
    "usage: %s --list | <id> | all [--quick] [--out DIR] [--seed N] | --smoke | --check-ids ID,ID,...\n"
    "  <id>     one figure or table (see --list): writes DIR/<id>.csv and DIR/<id>.png (more panels as\n"
    "           DIR/<id>-<panel>.*), prints its table on stdout and progress on stderr\n"
    "  --quick  a reduced setting (seconds) that asserts the figure's qualitative claim; without it,\n"
    "           the paper's setting (both exit 1 when the claim does not hold)\n"
    "  --out    output directory (default reproduce-out)\n"
    "  --smoke  the quick run of one figure per paper (tang2024-fig7, li-fig5, wang-fig6,\n"
    "           gholami-remark3) into reproduce-smoke/\n";

std::vector<reproduce::paper> papers() {
  return {reproduce::tang2024_figures(), reproduce::li_skoglund_figures(), reproduce::wang_figures(),
          reproduce::gholami_figures()};
}

void list(const std::vector<reproduce::paper>& all) {
  std::printf("Figures and tables gradcode_reproduce makes (id: description; setting):\n\n");
  for (const auto& p : all)
    for (const auto& f : p.figures)
      std::printf("%-18s %s\n%-18s   %s\n", f.id.c_str(), f.description.c_str(), "", f.setting.c_str());
  std::printf("\nWhat it cannot make, and why:\n\n");
  for (const auto& p : all)
    for (const auto& m : p.missing) std::printf("- %s: %s\n", m.what.c_str(), m.why.c_str());
}

/// Runs one figure, timing it; false when its claim failed or it threw.
bool run(const reproduce::figure& f, const reproduce::context& c) {
  std::printf("== %s%s: %s\n", f.id.c_str(), c.quick ? " (--quick)" : "", f.description.c_str());
  std::fflush(stdout);
  const auto wall = std::chrono::steady_clock::now();
  const std::clock_t cpu = std::clock();
  bool held = false;
  try {
    held = f.run(c);
  } catch (const std::exception& e) {
    std::printf("  FAILS: %s threw: %s\n", f.id.c_str(), e.what());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  std::printf("== %s: claim %s; %.1f s wall, %.1f s CPU\n\n", f.id.c_str(), held ? "holds" : "DOES NOT HOLD", seconds,
              static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC);
  std::fflush(stdout);
  return held;
}

}  // namespace

int main(int argc, char** argv) {
  const auto all = papers();
  std::vector<const reproduce::figure*> figures;
  for (const auto& p : all)
    for (const auto& f : p.figures) figures.push_back(&f);

  reproduce::context c;
  std::vector<std::string> ids;
  bool smoke = false;
  examples::flags f(argc, argv, usage_text);
  while (f.next()) {
    if (f.is("--list")) {
      list(all);
      return 0;
    } else if (f.is("--check-ids")) {
      const auto wanted = f.words();
      std::set<std::string> declared(wanted.begin(), wanted.end()), registered;
      for (const auto* g : figures) registered.insert(g->id);
      for (const auto& id : registered)
        if (!declared.count(id)) std::printf("%s is registered but has no `// reproduce:` line (no test)\n", id.c_str());
      for (const auto& id : declared)
        if (!registered.count(id)) std::printf("%s is declared by a `// reproduce:` line but not registered\n", id.c_str());
      return declared == registered && registered.size() == figures.size() ? 0 : 1;
    } else if (f.is("--quick")) {
      c.quick = true;
    } else if (f.is("--smoke")) {
      smoke = c.quick = true;
      c.out = "reproduce-smoke";
      ids = {"tang2024-fig7", "li-fig5", "wang-fig6", "gholami-remark3"};
    } else if (f.is("--out")) {
      c.out = f.text();
    } else if (f.is("--seed")) {
      c.seed = f.unsigned_integer();
    } else if (!f.name().empty() && f.name()[0] != '-') {
      if (f.name() == "all")
        for (const auto* g : figures) ids.push_back(g->id);
      else if (std::none_of(figures.begin(), figures.end(), [&](const auto* g) { return g->id == f.name(); }))
        f.fail("is not a figure id (see --list)");
      else
        ids.push_back(f.name());
    } else {
      f.unknown();
    }
  }
  if (ids.empty()) f.usage(2);
  std::filesystem::create_directories(c.out);
  const auto wall = std::chrono::steady_clock::now();
  std::vector<std::string> failed;
  for (const auto& id : ids)
    for (const auto* g : figures)
      if (g->id == id && !run(*g, c)) failed.push_back(id);
  if (ids.size() > 1 || smoke) {
    std::printf("%zu figures in %.1f s wall%s", ids.size(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count(),
                failed.empty() ? "; every claim holds\n" : "; claims that do not hold:");
    for (const auto& id : failed) std::printf(" %s", id.c_str());
    if (!failed.empty()) std::printf("\n");
  }
  return failed.empty() ? 0 : 1;
}
