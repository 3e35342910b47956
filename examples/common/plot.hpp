// SPDX-License-Identifier: MIT
// CSV + PNG output for the examples: writes a CSV of named series and, when gnuplot is
// installed (Debian gnuplot-nox), renders it to PNG; otherwise prints how to. Not part of the
// library.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace examples {

/// One curve: (x, y) points under a label.
struct series {
  std::string label;
  std::vector<double> x, y;
};

/// Writes `csv` (columns: series,x,y) and, with gnuplot, `png` plotting every series as a line
/// (logarithmic axes on request). Returns true when the PNG was written.
inline bool write_plot(const std::vector<series>& all, const std::string& csv, const std::string& png, const std::string& title,
                       const std::string& xlabel, const std::string& ylabel, bool log_x = false, bool log_y = false) {
  {
    std::ofstream out(csv);
    out << "series,x,y\n";
    for (const auto& s : all)
      for (std::size_t i = 0; i < s.x.size(); ++i) out << '"' << s.label << "\"," << s.x[i] << ',' << s.y[i] << '\n';
  }
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    std::printf("wrote %s (install gnuplot-nox for the PNG)\n", csv.c_str());
    return false;
  }
  const std::string script = png + ".gp";
  {
    std::ofstream gp(script);
    gp << "set terminal pngcairo size 900,600\nset output '" << png << "'\nset title '" << title << "'\n"
       << "set xlabel '" << xlabel << "'\nset ylabel '" << ylabel << "'\nset key outside right\nset grid\n"
       << "set datafile separator ','\n"
       << (log_x ? "set logscale x\n" : "") << (log_y ? "set logscale y\n" : "") << "plot ";
    for (std::size_t i = 0; i < all.size(); ++i)
      gp << (i ? ", " : "") << "'" << csv << "' using (strcol(1) eq '" << all[i].label << "' ? $2 : NaN):(strcol(1) eq '"
         << all[i].label << "' ? $3 : NaN) every ::1 with lines lw 2 title '" << all[i].label << "'";
    gp << "\n";
  }
  const bool ok = std::system(("gnuplot '" + script + "' 2>/dev/null").c_str()) == 0;
  std::printf(ok ? "wrote %s and %s\n" : "wrote %s (gnuplot failed on %s)\n", csv.c_str(), png.c_str());
  return ok;
}

}  // namespace examples
