// SPDX-License-Identifier: MIT
// A user program of the optional MPI transport: compiles and links against gradcode::mpi from
// the installed package (built, not run: running needs mpirun).
#include <mpi.h>
#include <gradcode/mpi/hgc_runner.hpp>
#include <gradcode/mpi/polynomial_runner.hpp>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  {
    const gradcode::mpi::topology layout(MPI_COMM_WORLD, {1});
    const gradcode::hgc_code<double> code(gradcode::hgc_params{.workers = {1}, .partitions = 1});
    gradcode::mpi::hgc_runner<double> runner(layout, code, 8);
    (void)runner;
  }
  MPI_Finalize();
}
