// SPDX-License-Identifier: MIT
// The LibTorch bridge (include/gradcode/torch/, issue 15): the flat buffers are the module's own
// memory (same data pointers before and after autograd writes), round-trip bit for bit, the
// per-partition gradients equal autograd's one partition at a time, and misuse is a typed error.
#include "torch/torch_support.hpp"  // first: Catch, LibTorch, then Catch's CHECK back over glog's

#include <gradcode/core/errors.hpp>
#include <gradcode/torch/flat_parameters.hpp>
#include <gradcode/torch/partition_gradients.hpp>
#include <gradcode/torch/tensor_map.hpp>

#include <string>
#include <vector>

GRADCODE_REQUIRE_CATCH_CHECK();

using gradcode::Index;
using gradcode::matrix;
using gradcode::vector;
using gradcode::libtorch::flat_parameters;
using gradcode::test::tiny_batches;
using gradcode::test::tiny_cnn;

namespace {
/// Address of element `i` of a tensor's storage, to compare views.
const void* element(const at::Tensor& t, Index i) { return static_cast<const float*>(t.data_ptr()) + i; }
}  // namespace

TEST_CASE("flat_parameters is the module's memory: parameters and grads are views, autograd writes into the buffer", "[torch]") {
  torch::manual_seed(1);
  tiny_cnn net;
  const auto before = net->parameters();
  std::vector<at::Tensor> copies;
  for (const auto& p : before) copies.push_back(p.detach().clone());
  flat_parameters<float> flat(net->parameters());
  REQUIRE(flat.size() == net->parameter_count());
  REQUIRE(flat.is_flat());
  const auto params = net->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    CHECK(params[i].data_ptr() == element(flat.values(), flat.offset(i)));  // the module's tensor, re-homed
    CHECK(params[i].grad().data_ptr() == element(flat.gradient(), flat.offset(i)));
    CHECK(torch::equal(params[i].detach(), copies[i]));  // values kept exactly
  }
  const void* gradient_data = flat.gradient().data_ptr();
  const auto batches = tiny_batches(2, 5, 2);
  net->loss(batches[0]).backward();
  CHECK(flat.gradient().data_ptr() == gradient_data);  // accumulated in place, not replaced
  CHECK(flat.is_flat());
  CHECK(flat.gradient_vector().data() == flat.gradient().data_ptr<float>());
  for (std::size_t i = 0; i < params.size(); ++i) {
    CHECK(params[i].grad().data_ptr() == element(flat.gradient(), flat.offset(i)));
    CHECK(flat.gradient().narrow(0, flat.offset(i), params[i].numel()).abs().sum().item<float>() > 0);
  }
}

TEST_CASE("a gradient and a parameter vector round-trip through the flat buffers bit for bit", "[torch]") {
  torch::manual_seed(2);
  tiny_cnn net;
  flat_parameters<float> flat(net->parameters());
  const vector<float> g = vector<float>::Random(flat.size());
  flat.set_gradient(g);
  const auto params = net->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const at::Tensor grad = params[i].grad().reshape(-1);
    for (Index k = 0; k < grad.numel(); ++k) REQUIRE(grad[k].item<float>() == g[flat.offset(i) + k]);
  }
  flat.set_gradient(g, 0.5f);
  CHECK((flat.gradient_vector().array() == 0.5f * g.array()).all());
  const vector<float> w = vector<float>::Random(flat.size());
  flat.load_parameters(std::span<const float>(w.data(), static_cast<std::size_t>(w.size())));
  CHECK((flat.parameter_vector().array() == w.array()).all());
  const auto span = flat.parameter_span();
  CHECK(static_cast<const void*>(span.data()) == net->parameters()[0].data_ptr());
  flat.zero_gradient();
  CHECK(flat.gradient_vector().isZero(0));
}

TEST_CASE("partition_gradients writes each partition's gradient into its column, equal to autograd's one at a time", "[torch]") {
  torch::manual_seed(3);
  tiny_cnn net;
  flat_parameters<float> flat(net->parameters());
  const auto batches = tiny_batches(4, 3, 4);
  const std::vector<Index> held{3, 1, 2};
  matrix<float> partials = matrix<float>::Constant(flat.size(), 3, 9.f);  // stale values must not leak in
  gradcode::libtorch::partition_gradients(flat, std::span<const Index>(held), partials,
                                          [&](Index k) { return net->loss(batches[static_cast<std::size_t>(k)]); });
  CHECK(flat.is_flat());  // grads re-bound to the own buffer afterwards
  double worst = 0;
  for (std::size_t t = 0; t < held.size(); ++t) {
    const auto grads = torch::autograd::grad({net->loss(batches[static_cast<std::size_t>(held[t])])}, net->parameters());
    vector<float> reference(flat.size());
    for (std::size_t i = 0; i < grads.size(); ++i)
      reference.segment(flat.offset(i), grads[i].numel()) =
          gradcode::libtorch::as_vector<float>(grads[i].reshape(-1).contiguous());
    worst = std::max(worst, static_cast<double>((partials.col(static_cast<Index>(t)) - reference).cwiseAbs().maxCoeff()));
    CHECK(reference.norm() > 0);
  }
  CHECK(worst == 0);  // the same operations in the same order: bit for bit

  // One backward of Σ_t b_t·loss_t equals Σ_t b_t·g_t within float rounding.
  const std::vector<float> weights{0.5f, -1.25f, 2.f};
  gradcode::libtorch::combined_gradient(flat, std::span<const Index>(held), std::span<const float>(weights),
                                        [&](Index k) { return net->loss(batches[static_cast<std::size_t>(k)]); });
  const vector<float> expected = partials * Eigen::Map<const vector<float>>(weights.data(), 3);
  CHECK((flat.gradient_vector() - expected).norm() <= 1e-5 * expected.norm());
}

TEST_CASE("as_vector and as_partials map tensors without a copy, and a tensor of another dtype, rank or layout is invalid_input",
          "[torch]") {
  const at::Tensor rows = torch::arange(12, torch::kFloat32).reshape({3, 4});  // K = 3 partitions of d = 4
  auto partials = gradcode::libtorch::as_partials<float>(rows);
  CHECK(partials.rows() == 4);
  CHECK(partials.cols() == 3);
  CHECK(partials.data() == rows.data_ptr<float>());
  CHECK(partials(1, 2) == 9.f);  // g_2[1] = rows[2][1]
  const at::Tensor back = gradcode::libtorch::partials_tensor(partials.data(), 4, 3);
  CHECK(torch::equal(back, rows));
  CHECK(gradcode::libtorch::as_vector<float>(rows.reshape(-1)).data() == rows.data_ptr<float>());
  using gradcode::test::what_contains;
  CHECK_THROWS_MATCHES(gradcode::libtorch::as_vector<double>(rows.reshape(-1)), gradcode::invalid_input,
                       what_contains("holds Float, expected float64"));
  CHECK_THROWS_MATCHES(gradcode::libtorch::as_vector<float>(rows), gradcode::invalid_input,
                       what_contains("2 dimensions, expected 1"));
  CHECK_THROWS_MATCHES(gradcode::libtorch::as_partials<float>(rows.t()), gradcode::invalid_input,
                       what_contains("not contiguous"));
  CHECK_THROWS_MATCHES(gradcode::libtorch::as_vector<float>(at::Tensor()), gradcode::invalid_input, what_contains("undefined"));
}

TEST_CASE("flat_parameters refuses other dtypes, wrong lengths and grads replaced behind its back", "[torch]") {
  using gradcode::test::what_contains;
  torch::manual_seed(4);
  tiny_cnn net;
  CHECK_THROWS_MATCHES(flat_parameters<double>(net->parameters()), gradcode::invalid_input,
                       what_contains("expected dense float64"));
  CHECK_THROWS_MATCHES(flat_parameters<float>(std::vector<at::Tensor>{}), gradcode::invalid_input, what_contains("no parameter"));
  flat_parameters<float> flat(net->parameters());
  const vector<float> short_gradient = vector<float>::Zero(flat.size() - 1);
  CHECK_THROWS_MATCHES(flat.set_gradient(short_gradient), gradcode::invalid_input, what_contains("values for"));
  net->parameters()[1].mutable_grad() = at::Tensor();  // what zero_grad(set_to_none = true) does
  CHECK_FALSE(flat.is_flat());
  CHECK_THROWS_MATCHES(flat.gradient_vector(), gradcode::invalid_input, what_contains("parameter 1 is no longer a view"));
  flat.zero_gradient();  // re-binds
  CHECK(flat.is_flat());
  matrix<float> wrong(flat.size(), 2);
  const std::vector<Index> one{0};
  CHECK_THROWS_MATCHES(
      gradcode::libtorch::partition_gradients(flat, std::span<const Index>(one), wrong, [](Index) { return at::Tensor(); }),
      gradcode::invalid_input, what_contains("d x partitions held"));
  matrix<float> right(flat.size(), 1);
  CHECK_THROWS_MATCHES(
      gradcode::libtorch::partition_gradients(flat, std::span<const Index>(one), right, [](Index) { return torch::ones({1}); }),
      gradcode::invalid_input, what_contains("requires a gradient"));
  CHECK(flat.is_flat());  // the guard re-bound the grads after the throw
}
