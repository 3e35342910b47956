// SPDX-License-Identifier: MIT
// tests/mpi/mpi_train_claim_test.cpp: README's MPI claim (issue 13, item 2) — with one slow worker
// per edge, an HGC iteration of examples/mpi_train.cpp takes a fraction of an uncoded one (README:
// 0.07–0.09 with 200 ms stragglers, 30 iterations on Fashion-MNIST). This runs the example's own
// driver, train(), at CI size (100 ms stragglers, a few iterations, the synthetic data set of the
// same shape, so zlib is not needed) and asserts the ratio of the measured mean iteration times,
// iteration 1 left out as the example does, against a stated margin. As a control it also asserts
// that the uncoded iterations did wait for the stragglers (else the ratio would say nothing).
//
// Flags: --max-ratio <r> (the margin), any other flag goes to mpi_train's own parser.
//
// mpi-test: 13 --iterations 6 --samples 1200 --test 300 --slow-per-edge 100 --max-ratio 0.5 | README claim (mpi_train): with one 100 ms slow worker per edge the mean HGC iteration takes at most 0.5 of the uncoded one
#define GRADCODE_MPI_TRAIN_NO_MAIN
#include "mpi_train.cpp"

#include <cstdio>
#include <string>
#include <vector>

#include "mpi/mpi_test_support.hpp"

int main(int argc, char** argv) {
  return mpi_test::main_with_mpi(argc, argv, [&](int rank) {
    double max_ratio = 0.5;
    double slow_ms = 0;
    std::vector<char*> rest{argv[0]};  // what mpi_train's parse() sees
    for (int a = 1; a < argc; ++a) {
      const std::string flag = argv[a];
      if (flag == "--max-ratio" && a + 1 < argc) {
        max_ratio = std::stod(argv[++a]);
        continue;
      }
      if (flag == "--slow-per-edge" && a + 1 < argc) slow_ms = std::stod(argv[a + 1]);
      rest.push_back(argv[a]);
    }
    const options o = parse(static_cast<int>(rest.size()), rest.data());
    int failures = 0;
    auto fail = [&](const std::string& what) {
      std::fprintf(stderr, "FAIL: %s\n", what.c_str());
      ++failures;
    };
    if (o.schemes.size() != 2 || slow_ms <= 0) {
      fail("needs --scheme both (the default) and --slow-per-edge <ms>");
      return mpi_test::tally(failures, 0, false, rank);
    }
    const auto times = train(o, [](const std::string& split, std::size_t samples) {
      return examples::synthetic_fashion(samples, split == "train" ? 1 : 2);  // as load_fashion_mnist's fallback
    });
    if (rank == 0) {
      print_summary(times);
      const auto hgc = mean_median(times[0].wall_ms), uncoded = mean_median(times[1].wall_ms);
      const double ratio = hgc.first / uncoded.first;
      std::printf("measured HGC / uncoded mean iteration time: %.3f (margin %.3f)\n", ratio, max_ratio);
      if (!(uncoded.first >= slow_ms))
        fail("uncoded iterations took " + std::to_string(uncoded.first) + " ms on average, less than the " +
             std::to_string(slow_ms) + " ms straggler they must wait for");
      if (!(ratio <= max_ratio))
        fail("HGC / uncoded mean iteration time " + std::to_string(ratio) + " > " + std::to_string(max_ratio) + " (HGC " +
             std::to_string(hgc.first) + " ms, uncoded " + std::to_string(uncoded.first) + " ms)");
    }
    return mpi_test::tally(failures, 0, false, rank);
  });
}
