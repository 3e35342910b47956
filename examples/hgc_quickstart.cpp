// examples/hgc_quickstart.cpp: hierarchical gradient coding (tang2024) — workers → edge nodes →
// master, with stragglers at both layers. Already short, so it ignores --smoke.
#include <gradcode/gradcode.hpp>

#include <cstdio>
#include <vector>

int main() {
  using gradcode::Index;
  // tang2024 §V: 4 edge nodes with 10 workers each, K = 40 data partitions; the master tolerates
  // any s_e = 1 straggling edge, every edge any s_w = 2 straggling workers.
  const gradcode::hgc_code<float> code(
      gradcode::hgc_params{.workers = {10, 10, 10, 10}, .partitions = 40, .edge_tolerance = 1, .worker_tolerance = 2});

  const Index d = 100000;
  const gradcode::matrix<float> partials = gradcode::matrix<float>::Random(d, 40);  // g_1..g_K

  // Edge 2 straggles; at each other edge, workers 3 and 7 straggle.
  const std::vector<Index> edges{0, 1, 3}, workers{0, 1, 2, 4, 5, 6, 8, 9};
  gradcode::matrix<float> edge_results(d, 3);
  std::vector<gradcode::decode_report> reports;  // what each edge's decode did (its rounding, for the master)
  for (Index e = 0; e < 3; ++e) {
    gradcode::matrix<float> messages(d, 8);  // what edge `edges[e]` receives
    for (Index j = 0; j < 8; ++j)            // each worker sends one coded d-vector (eq. 22)
      code.encode({edges[e], workers[j]}, partials, messages.col(j));
    reports.push_back(code.edge_decode(edges[e], workers, messages, edge_results.col(e)));  // G_i (eq. 25)
  }
  gradcode::vector<float> sum(d);
  // g = Σ_k g_k (eq. 27), both layers' rounding checked; throws not_decodable if too few edges.
  code.master_decode(edges, edge_results, reports, sum);

  const gradcode::vector<double> truth = partials.cast<double>().rowwise().sum();
  const double error = (sum.cast<double>() - truth).norm() / truth.norm();
  std::printf("relative error %.1e; every worker computes %ld of 40 partitions (Theorem 1 bound %.0f)\n", error,
              static_cast<long>(code.max_load()), code.load_bound());
  return error <= 1e-4 ? 0 : 1;
}
