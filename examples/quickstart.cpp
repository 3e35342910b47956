// examples/quickstart.cpp: build a code, encode, lose stragglers, decode.
#include <gradcode/gradcode.hpp>

#include <cstdio>
#include <vector>

int main() {
  // n = 8 workers with relative speeds, K = 16 partitions, any s = 2 may straggle.
  gradcode::heterogeneous_code<float> code({.capacities = {1, 1, 2, 2, 2, 4, 4, 4}, .partitions = 16, .tolerance = 2});

  const Eigen::Index d = 100000;
  gradcode::matrix<float> partials = gradcode::matrix<float>::Random(d, 16);  // g_1..g_K

  // Workers 3 and 6 straggle; the other six send their coded messages.
  std::vector<Eigen::Index> arrived{0, 1, 2, 4, 5, 7};
  gradcode::matrix<float> messages(d, 6);
  for (int j = 0; j < 6; ++j) code.encode(arrived[j], partials, messages.col(j));

  gradcode::vector<float> sum(d);
  code.decode(arrived, messages, sum);  // throws gradcode::not_decodable if too few arrived

  const gradcode::vector<float> truth = partials.rowwise().sum();
  std::printf("relative error %.1e, worker 7 computes %ld of 16 partitions\n", (sum - truth).norm() / truth.norm(),
              static_cast<long>(code.load(7)));
  return (sum - truth).norm() <= 1e-4f * truth.norm() ? 0 : 1;
}
