// SPDX-License-Identifier: MIT
// gradcode_reproduce's shared pieces: what a figure is (id, description, run), what the program
// cannot make and why, the claim checker every --quick run reports through, and output paths.
// One function per paper (tang2024.cpp, li_skoglund.cpp, wang.cpp, gholami.cpp) returns its figures.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "common/plot.hpp"

namespace reproduce {

/// How one figure is run (the command line).
struct context {
  bool quick = false;  ///< reduced setting (seconds) instead of the paper's
  std::string out = "reproduce-out";
  std::uint64_t seed = 1;
  /// DIR/<name>.<extension>
  std::string path(const std::string& name, const char* extension) const { return out + "/" + name + "." + extension; }
};

/// Collects the checks of one figure's claim: each is printed as it is made; held() is the verdict.
class claim {
 public:
  __attribute__((format(printf, 3, 4))) void check(bool ok, const char* format, ...) {
    std::va_list args;
    va_start(args, format);
    std::printf("  %s ", ok ? "holds:" : "FAILS:");
    std::vprintf(format, args);
    std::printf("\n");
    va_end(args);
    m_held = m_held && ok;
  }
  bool held() const noexcept { return m_held; }

 private:
  bool m_held = true;
};

/// One figure or table the program makes.
struct figure {
  std::string id;           ///< lowercase [a-z0-9-], declared by a `// reproduce:` line in its source
  std::string description;  ///< paper, figure, axes
  std::string setting;      ///< the paper's setting the full run uses, and what --quick reduces
  /// Runs it: writes DIR/<id>.csv/.png (further panels DIR/<id>-<panel>.csv/.png), prints the
  /// table and the claim's checks; returns whether the claim held.
  std::function<bool(const context&)> run;
};

/// A figure of an evaluation section the program cannot make.
struct unavailable {
  std::string what, why;
};

struct paper {
  std::vector<figure> figures;
  std::vector<unavailable> missing;
};

paper tang2024_figures();
paper li_skoglund_figures();
paper wang_figures();
paper gholami_figures();

/// Progress line on stderr (stdout keeps the tables).
__attribute__((format(printf, 1, 2))) inline void progress(const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fflush(stderr);
}

/// write_plot into DIR/<name>.csv and DIR/<name>.png.
inline void plot(const context& c, const std::string& name, const std::vector<examples::series>& curves, const std::string& title,
                 const std::string& xlabel, const std::string& ylabel, bool log_x = false, bool log_y = false) {
  examples::write_plot(curves, c.path(name, "csv"), c.path(name, "png"), title, xlabel, ylabel, log_x, log_y);
}

}  // namespace reproduce
