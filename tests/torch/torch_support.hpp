// SPDX-License-Identifier: MIT
// A small CNN and random labelled batches for the LibTorch bridge tests: one conv layer, one
// linear layer (d = 2 · 3·3 + 2 + 2·6·6 · 3 + 3 = 239), so a test round takes milliseconds.
//
// LibTorch includes glog, whose CHECK(condition) aborts the process and replaces Catch's CHECK
// (a failing check would then stop the suite instead of being reported, and passing ones would
// not count). Every torch test includes this header after <torch/torch.h> and Catch: it puts
// Catch's CHECK back.
#pragma once

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <string_view>

#undef CHECK
#define CHECK(...) INTERNAL_CATCH_TEST("CHECK", Catch::ResultDisposition::ContinueOnFailure, __VA_ARGS__)

/// Put after a torch test file's includes: fails to compile when CHECK is not Catch's there.
#define GRADCODE_TEST_STRINGIFY(...) #__VA_ARGS__
#define GRADCODE_TEST_EXPANDED(...) GRADCODE_TEST_STRINGIFY(__VA_ARGS__)
#define GRADCODE_REQUIRE_CATCH_CHECK()                                                                                     \
  static_assert(std::string_view(GRADCODE_TEST_EXPANDED(CHECK(true))).find("ContinueOnFailure") != std::string_view::npos, \
                "CHECK is not Catch's here (glog's replaced it): include torch/torch_support.hpp after LibTorch")

#include <cstdint>
#include <vector>

#include "test_support.hpp"

namespace gradcode::test {

struct tiny_cnn_module : ::torch::nn::Module {
  tiny_cnn_module()
      : conv(register_module("conv", ::torch::nn::Conv2d(::torch::nn::Conv2dOptions(1, 2, 3)))),
        fc(register_module("fc", ::torch::nn::Linear(2 * 6 * 6, 3))) {}
  at::Tensor forward(const at::Tensor& x) { return fc(::torch::relu(conv(x)).flatten(1)); }
  /// Summed cross-entropy of a batch {images, labels}: partition losses add up to the batch's.
  at::Tensor loss(const std::pair<at::Tensor, at::Tensor>& batch) {
    return ::torch::nn::functional::cross_entropy(forward(batch.first), batch.second,
                                                  ::torch::nn::functional::CrossEntropyFuncOptions().reduction(::torch::kSum));
  }
  Index parameter_count() {
    Index d = 0;
    for (const auto& p : parameters()) d += p.numel();
    return d;
  }
  ::torch::nn::Conv2d conv;
  ::torch::nn::Linear fc;
};
TORCH_MODULE_IMPL(tiny_cnn, tiny_cnn_module);

/// `count` batches of `samples` 8×8 images with labels in {0, 1, 2}.
inline std::vector<std::pair<at::Tensor, at::Tensor>> tiny_batches(int count, int samples, std::uint64_t seed) {
  ::torch::manual_seed(seed);
  std::vector<std::pair<at::Tensor, at::Tensor>> out;
  for (int b = 0; b < count; ++b)
    out.emplace_back(::torch::randn({samples, 1, 8, 8}), ::torch::randint(0, 3, {samples}, ::torch::kLong));
  return out;
}

}  // namespace gradcode::test
