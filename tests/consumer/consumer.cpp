// SPDX-License-Identifier: MIT
// A user program: encode with a cyclic-repetition code, lose s nodes, decode, check the sum.
#include <gradcode/gradcode.hpp>

#include <cstdio>
#include <vector>

int main() {
  const gradcode::cyclic_repetition_code<double> code({.nodes = 6, .partitions = 6, .tolerance = 2});
  const gradcode::matrix<double> partials = gradcode::matrix<double>::Random(100, 6);
  const std::vector<gradcode::Index> responders{0, 2, 3, 5};  // nodes 1 and 4 straggle
  gradcode::matrix<double> messages(100, 4);
  for (int j = 0; j < 4; ++j) messages.col(j) = code.encode(responders[j], partials);
  const gradcode::vector<double> sum = code.decode(responders, messages);
  const double err = (sum - partials.rowwise().sum()).norm() / partials.rowwise().sum().norm();
  std::printf("consumer: gradcode %d.%d.%d, relative error %.2e\n", GRADCODE_VERSION_MAJOR, GRADCODE_VERSION_MINOR,
              GRADCODE_VERSION_PATCH, err);
  return err < 1e-12 ? 0 : 1;
}
