// examples/polynomial_quickstart.cpp: polynomial hierarchical gradient coding (gholami2025) —
// stragglers AND adversaries at both layers; relays and the server find who lied. Already short,
// so it ignores --smoke.
#include <gradcode/gradcode.hpp>

#include <cstdio>
#include <vector>

int main() {
  using gradcode::Index;
  // 4 relays with 6 workers each, K = 24 partitions; each partition in 4 clusters (r1) and on 5
  // workers of each of them (r2). Tolerate 1 straggling + 1 lying node per layer:
  // m1 = r1 − 2a1 − s1 = 1 part, m2 = r2 − 2a2 − s2 = 2 sub-parts, so a worker sends d/2 reals.
  const auto placement =
      gradcode::place_partitions({.workers = {6, 6, 6, 6}, .partitions = 24, .relay_replication = 4, .worker_replication = {5}});
  const gradcode::polynomial_hgc<double> code({.dimension = 100000,
                                               .clusters = placement,
                                               .relay_stragglers = 1,
                                               .relay_adversaries = 1,
                                               .worker_stragglers = {1},
                                               .worker_adversaries = {1}});

  const gradcode::matrix<double> partials = gradcode::matrix<double>::Random(100000, 24);  // g_1..g_K
  gradcode::polynomial_round<double> faults;
  faults.straggling_relays = {3};
  faults.adversarial_relays = {1};               // relay 1 forwards garbage (default: +1 everywhere)
  faults.straggling_workers = {{0, 5}, {2, 0}};  // (relay, worker)
  faults.adversarial_workers = {{0, 2}, {1, 4}, {2, 3}};

  const auto round = code.simulate_round(partials, faults);  // encode → relay decode → server decode
  const gradcode::vector<double> truth = partials.rowwise().sum();
  std::printf("relative error %.1e; worker message %ld reals (C2* = %.0f), relay message %ld (C1* = %.0f)\n",
              (round.gradient - truth).norm() / truth.norm(), static_cast<long>(code.worker_message_length(0)),
              code.worker_load_bound(0), static_cast<long>(code.relay_message_length()), code.relay_load_bound());
  for (Index n = 0; n < 3; ++n)
    for (Index j : round.relays[static_cast<std::size_t>(n)].corrupted)
      std::printf("relay %ld excluded its worker %ld\n", static_cast<long>(n), static_cast<long>(j));
  for (Index n : round.server.corrupted) std::printf("server excluded relay %ld\n", static_cast<long>(n));
  return (round.gradient - truth).norm() <= 1e-9 * truth.norm() ? 0 : 1;
}
