// SPDX-License-Identifier: MIT
// Corpus replay for the fuzz targets when they are built without libFuzzer (the default
// compiler, GRADCODE_FUZZ=OFF): runs LLVMFuzzerTestOneInput over every regular file of the
// directories (recursively, in sorted order) and files named on the command line, prints how many
// inputs ran, and fails when none did — an empty or missing corpus must not pass as a test. A
// property violation inside the target aborts, which fails the run. Arguments starting with '-'
// are ignored, so a libFuzzer command line (e.g. `-runs=0 crash-…`) replays here too.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool run_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // A copy in its own allocation: reads past the end are caught by ASan as under libFuzzer.
  std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(input.empty() ? nullptr : input.data(), input.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t ran = 0, paths = 0;
  bool ok = true;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    if (!arg.empty() && arg[0] == '-') continue;
    ++paths;
    const std::filesystem::path path(arg);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::recursive_directory_iterator(path, ec))
        if (entry.is_regular_file()) files.push_back(entry.path());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) ran += run_file(f) ? 1 : 0;
    } else if (std::filesystem::is_regular_file(path, ec)) {
      ran += run_file(path) ? 1 : 0;
    } else {
      std::fprintf(stderr, "replay: %s is neither a file nor a directory\n", arg.c_str());
      ok = false;
    }
  }
  std::printf("replay: %zu inputs ran from %zu path(s)\n", ran, paths);
  if (ran == 0) {
    std::fprintf(stderr, "replay: no input ran (empty or missing corpus)\n");
    return 1;
  }
  return ok ? 0 : 1;
}
