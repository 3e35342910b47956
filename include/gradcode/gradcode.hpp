// SPDX-License-Identifier: MIT
// Umbrella header: every gradcode header except the optional MPI transport (gradcode/mpi/).
#pragma once

#include "gradcode/version.hpp"

#include "gradcode/core/assignment.hpp"
#include "gradcode/core/codec.hpp"
#include "gradcode/core/condition_report.hpp"
#include "gradcode/core/decoding_plan.hpp"
#include "gradcode/core/decoding_solver.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/pattern.hpp"
#include "gradcode/core/span_verifier.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/core/worker_id.hpp"

#include "gradcode/codes/construction.hpp"
#include "gradcode/codes/cyclic_mds.hpp"
#include "gradcode/codes/cyclic_repetition.hpp"
#include "gradcode/codes/fractional_repetition.hpp"
#include "gradcode/codes/heterogeneous.hpp"
#include "gradcode/codes/linear_code.hpp"
#include "gradcode/codes/null_space.hpp"

#include "gradcode/hierarchical/hgc.hpp"
#include "gradcode/hierarchical/polynomial.hpp"
#include "gradcode/hierarchical/polynomial_placement.hpp"
#include "gradcode/hierarchical/polynomial_round.hpp"
#include "gradcode/hierarchical/polynomial_tradeoff.hpp"
#include "gradcode/hierarchical/tradeoff.hpp"

#include "gradcode/robust/arnoldi_basis.hpp"
#include "gradcode/robust/error_locator.hpp"
#include "gradcode/robust/evaluation_points.hpp"
#include "gradcode/robust/point_order.hpp"
#include "gradcode/robust/reed_solomon.hpp"

#include "gradcode/optimize/homogeneous.hpp"
#include "gradcode/optimize/jncss.hpp"
#include "gradcode/optimize/jncss_gap.hpp"
#include "gradcode/optimize/jncss_literal.hpp"
#include "gradcode/optimize/jncss_problem.hpp"
#include "gradcode/optimize/presets.hpp"
#include "gradcode/optimize/runtime_model.hpp"

#include "gradcode/sim/models.hpp"
#include "gradcode/sim/schemes.hpp"
#include "gradcode/sim/training.hpp"

#include "gradcode/dynamic/epoch_policy.hpp"
#include "gradcode/dynamic/history.hpp"
#include "gradcode/dynamic/lyapunov.hpp"
#include "gradcode/dynamic/two_stage.hpp"

#include "gradcode/quantize/counter_rng.hpp"
#include "gradcode/quantize/gc_dl.hpp"
#include "gradcode/quantize/one_bit.hpp"
#include "gradcode/quantize/one_bit_wire.hpp"
#include "gradcode/quantize/placement.hpp"
#include "gradcode/quantize/theory.hpp"
