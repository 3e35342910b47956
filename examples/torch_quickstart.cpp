// examples/torch_quickstart.cpp: a LibTorch CNN trained with hierarchical gradient coding over MPI
// — 1 master, 2 edges, 6 workers; worker 0 of every edge is 100 ms slow, yet every step uses the
// exact gradient of the whole batch. Run: mpirun -n 9 ./gradcode_torch_quickstart
// mpi-ranks: 9
#include <mpi.h>
#include <torch/torch.h>
#include <gradcode/mpi/hgc_runner.hpp>
#include <gradcode/torch/flat_parameters.hpp>
#include <gradcode/torch/partition_gradients.hpp>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace {
using gradcode::Index;

void train() {
  const gradcode::mpi::topology layout(MPI_COMM_WORLD, {3, 3});
  const gradcode::hgc_code<float> code({.workers = {3, 3}, .partitions = 12, .edge_tolerance = 0, .worker_tolerance = 1});
  torch::manual_seed(1);  // the same initial weights on every rank
  torch::nn::Sequential net(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 3)), torch::nn::ReLU(), torch::nn::Flatten(),
                            torch::nn::Linear(4 * 6 * 6, 3));
  gradcode::libtorch::flat_parameters<float> flat(net->parameters());  // params and grads: one buffer each
  // Partition k: 16 images labelled by the sign pattern of their mean (a learnable toy task).
  auto batch = [](Index round, Index k) {
    torch::manual_seed(static_cast<std::uint64_t>(1000 * round + k));
    const auto x = torch::randn({16, 1, 8, 8});
    const auto m = x.mean({1, 2, 3});
    return std::pair{x, (m > 0.05).to(torch::kLong) + (m > -0.05).to(torch::kLong)};
  };
  const std::vector<std::string> faults{"slow:100@w*.0"};
  gradcode::mpi::hgc_runner<float> runner(layout, code, flat.size(), gradcode::mpi::injection_plan(faults));
  if (layout.my_role() == gradcode::mpi::role::master) {
    torch::optim::SGD optimiser(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
    gradcode::vector<float> g(flat.size());
    for (Index round = 0; round < 20; ++round) {
      const auto rep = runner.round(flat.parameter_span(), g);  // the first 2 workers of each edge
      flat.set_gradient(g, 1.0f / (12 * 16));                   // the batch's mean gradient, exactly
      optimiser.step();
      const auto [x, y] = batch(999, 0);
      const float loss = torch::nn::functional::cross_entropy(net->forward(x), y).item<float>();
      std::printf("round %2ld  %6.1f ms  held-out loss %.3f\n", static_cast<long>(round), rep.wall_ms, loss);
    }
    runner.stop();
  } else {
    torch::set_num_threads(1);
    runner.serve([&](const gradcode::mpi::worker_task<float>& task, Eigen::Ref<gradcode::matrix<float>> held) {
      flat.load_parameters(task.broadcast);  // the master's weights
      gradcode::libtorch::partition_gradients(flat, task.partitions, held, [&](Index k) {
        const auto [x, y] = batch(task.round, k);  // summed loss: partition gradients add up to the batch's
        return torch::nn::functional::cross_entropy(net->forward(x), y,
                                                    torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
      });
    });
  }
}
}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  train();  // the runner and the communicators go before MPI_Finalize
  MPI_Finalize();
}
