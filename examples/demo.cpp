// SPDX-License-Identifier: MIT
// gradcode demo (README's first command): every single-layer code of the library recovers the
// exact gradient sum under every pattern of s stragglers; prints loads and worst errors.
#include <gradcode/gradcode.hpp>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <vector>

namespace {

// Decodes under every straggler set of size s and returns the worst relative error.
template <class Code>
double worst_error(const Code& code, const gradcode::matrix<double>& partials) {
  using gradcode::Index;
  const gradcode::vector<double> truth = partials.rowwise().sum();
  std::vector<Index> stragglers(static_cast<std::size_t>(code.tolerance()));
  std::iota(stragglers.begin(), stragglers.end(), Index{0});
  double worst = 0;
  do {
    const auto responders = gradcode::pattern::all_except(code.nodes(), stragglers).ids();
    gradcode::matrix<double> messages(partials.rows(), static_cast<Index>(responders.size()));
    for (std::size_t j = 0; j < responders.size(); ++j)
      messages.col(static_cast<Index>(j)) = code.encode(responders[j], partials);
    const auto sum = code.decode(responders, messages);
    worst = std::max(worst, (sum - truth).norm() / truth.norm());
  } while (gradcode::detail::next_combination(stragglers, code.nodes()));
  return worst;
}

template <class Code>
void report(const char* name, const Code& code, const gradcode::matrix<double>& partials) {
  std::printf("%-24s n=%-3ld K=%-3ld s=%ld  max load %ld  worst rel. error over all C(n,s) patterns: %.2e\n", name,
              static_cast<long>(code.nodes()), static_cast<long>(code.partitions()), static_cast<long>(code.tolerance()),
              static_cast<long>(code.support().max_load()), worst_error(code, partials));
}

}  // namespace

int main() {
  using namespace gradcode;
  const matrix<double> partials = matrix<double>::Random(4096, 12);  // d = 4096, K = 12
  std::printf("gradcode %d.%d.%d demo: d = %ld, K = %ld partial gradients\n", GRADCODE_VERSION_MAJOR,
              GRADCODE_VERSION_MINOR, GRADCODE_VERSION_PATCH, static_cast<long>(partials.rows()),
              static_cast<long>(partials.cols()));
  report("fractional repetition", fractional_repetition_code<double>({.nodes = 12, .partitions = 12, .tolerance = 2}), partials);
  report("cyclic repetition", cyclic_repetition_code<double>({.nodes = 12, .partitions = 12, .tolerance = 3}), partials);
  report("cyclic MDS", cyclic_mds_code<double>({.nodes = 12, .partitions = 12, .tolerance = 3}), partials);
  report("heterogeneous (1:2:3)",
         heterogeneous_code<double>({.capacities = {1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3}, .partitions = 12, .tolerance = 3}),
         partials);
  return 0;
}
