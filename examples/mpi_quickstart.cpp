// examples/mpi_quickstart.cpp: hierarchical gradient coding over MPI — 1 master, 3 edges, 9
// workers; worker 0 of every edge is 100 ms slow and worker 1 of edge 2 never answers, yet the
// master gets the exact gradient from the first arrivals. Run: mpirun -n 13 ./gradcode_mpi_quickstart
// mpi-ranks: 13
#include <mpi.h>
#include <gradcode/mpi/hgc_runner.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace {
constexpr gradcode::Index d = 1000, K = 18;

// Partial gradient of partition k at x: least squares ½‖A_k x − b_k‖², data a function of k only,
// so every rank can generate any partition (a real job would load its shard).
gradcode::vector<double> partial_gradient(gradcode::Index k, const gradcode::vector<double>& x) {
  const auto seed = static_cast<double>(k + 1);
  const gradcode::vector<double> a = gradcode::vector<double>::LinSpaced(d, -seed, seed);
  return a * (a.dot(x) - seed);  // one row per partition: A_k = aᵀ, b_k = k + 1
}
}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int status = 0;
  {
    const std::vector<gradcode::Index> workers{3, 3, 3};
    const gradcode::mpi::topology layout(MPI_COMM_WORLD, workers);  // rank 0 master, 1–3 edges, 4–12 workers
    const gradcode::hgc_code<double> code(
        gradcode::hgc_params{.workers = workers, .partitions = K, .edge_tolerance = 1, .worker_tolerance = 1});
    const std::vector<std::string> faults{"slow:100@w*.0", "crash@w2.1"};
    gradcode::mpi::hgc_runner<double> runner(layout, code, d, gradcode::mpi::injection_plan(faults));

    if (layout.my_role() == gradcode::mpi::role::master) {
      gradcode::vector<double> x = gradcode::vector<double>::Zero(d), g(d);
      for (int round = 0; round < 5; ++round) {
        const auto report = runner.round(std::span<const double>(x.data(), static_cast<std::size_t>(d)), g);
        gradcode::vector<double> truth = gradcode::vector<double>::Zero(d);
        for (gradcode::Index k = 0; k < K; ++k) truth += partial_gradient(k, x);
        const double error = (g - truth).norm() / truth.norm();
        std::printf("round %d: %.1f ms, decoded from %zu of 3 edges, relative error %.1e\n", round, report.wall_ms,
                    report.edges_used.size(), error);
        if (!(error <= 1e-9)) status = 1;
        x -= 1e-4 * g;  // a gradient step, so every round has new parameters
      }
      runner.stop();
    } else {  // edges decode and forward; workers compute the partitions they hold
      runner.serve([](const gradcode::mpi::worker_task<double>& task, Eigen::Ref<gradcode::matrix<double>> held) {
        const gradcode::vector<double> x = Eigen::Map<const gradcode::vector<double>>(task.broadcast.data(), d);
        for (std::size_t t = 0; t < task.partitions.size(); ++t)
          held.col(static_cast<gradcode::Index>(t)) = partial_gradient(task.partitions[t], x);
      });
    }
  }  // the runner and the communicators go before MPI_Finalize
  MPI_Finalize();
  return status;
}
