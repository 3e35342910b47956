// SPDX-License-Identifier: MIT
// README: "[examples/polynomial_quickstart.cpp] Prints `relative error 3.9e-16 …` and the four
// excluded nodes." README shows that file verbatim (tests/readme_test.cmake), so it cannot be
// split into a driver; this test compiles the example itself (its main renamed), runs it with
// stdout captured and checks what it prints.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gradcode/gradcode.hpp>  // before the rename below: only the example's own main is renamed

#define main polynomial_quickstart_main
#include "polynomial_quickstart.cpp"
#undef main

namespace {
/// Runs `program` with stdout redirected to a temporary file; returns (exit code, output).
template <class Program>
std::pair<int, std::string> capture_stdout(Program&& program) {
  std::fflush(stdout);
  std::FILE* sink = std::tmpfile();
  REQUIRE(sink != nullptr);
  const int saved = dup(fileno(stdout));
  REQUIRE(saved >= 0);
  REQUIRE(dup2(fileno(sink), fileno(stdout)) >= 0);
  const int code = program();
  std::fflush(stdout);
  dup2(saved, fileno(stdout));
  close(saved);
  std::string text;
  std::rewind(sink);
  for (int c; (c = std::fgetc(sink)) != EOF;) text.push_back(static_cast<char>(c));
  std::fclose(sink);
  return {code, text};
}
}  // namespace

TEST_CASE(
    "polynomial quickstart: relative error at rounding level (≤ 1e-14, README: 3.9e-16) and exactly the four "
    "adversaries excluded — workers 2, 4, 3 of relays 0, 1, 2 and relay 1",
    "[claims][quickstart]") {
  const auto [code, out] = capture_stdout([] { return polynomial_quickstart_main(); });
  INFO(out);
  CHECK(code == 0);
  double error = -1;
  REQUIRE(std::sscanf(out.c_str(), "relative error %lf", &error) == 1);
  std::printf("claims quickstart: polynomial quickstart relative error %.1e\n", error);
  CHECK(error >= 0);
  CHECK(error <= 1e-14);
  // The adversaries the example injects: workers (0,2), (1,4), (2,3) and relay 1; the straggling
  // relay 3 is not decoded, so its worker (none injected) cannot appear.
  const std::string exclusions = out.substr(out.find('\n') + 1);
  CHECK(exclusions ==
        "relay 0 excluded its worker 2\n"
        "relay 1 excluded its worker 4\n"
        "relay 2 excluded its worker 3\n"
        "server excluded relay 1\n");
}
