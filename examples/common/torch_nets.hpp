// SPDX-License-Identifier: MIT
// The CNNs of the LibTorch examples and tests: LeNet-5 (LeCun et al. 1998, on 28×28 inputs with
// a padded first convolution; d = 61,706) and a wider two-convolution network behind --net wide
// (d = 1,199,882). Losses are summed over a batch so that partition losses add up to the batch's.
// Not part of the library.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace examples {

/// What the trainer needs of a network: logits of a batch of 1×28×28 images.
struct classifier : ::torch::nn::Module {
  virtual at::Tensor forward(const at::Tensor& images) = 0;
};

struct lenet5 : classifier {
  lenet5()
      : conv1(register_module("conv1", ::torch::nn::Conv2d(::torch::nn::Conv2dOptions(1, 6, 5).padding(2)))),
        conv2(register_module("conv2", ::torch::nn::Conv2d(::torch::nn::Conv2dOptions(6, 16, 5)))),
        fc1(register_module("fc1", ::torch::nn::Linear(16 * 5 * 5, 120))),
        fc2(register_module("fc2", ::torch::nn::Linear(120, 84))),
        fc3(register_module("fc3", ::torch::nn::Linear(84, 10))) {}
  at::Tensor forward(const at::Tensor& x) override {
    auto h = ::torch::max_pool2d(::torch::relu(conv1(x)), 2);  // 6 × 14 × 14
    h = ::torch::max_pool2d(::torch::relu(conv2(h)), 2);       // 16 × 5 × 5
    h = ::torch::relu(fc1(h.flatten(1)));
    return fc3(::torch::relu(fc2(h)));
  }
  ::torch::nn::Conv2d conv1, conv2;
  ::torch::nn::Linear fc1, fc2, fc3;
};

struct wide_cnn : classifier {
  wide_cnn()
      : conv1(register_module("conv1", ::torch::nn::Conv2d(::torch::nn::Conv2dOptions(1, 32, 3)))),
        conv2(register_module("conv2", ::torch::nn::Conv2d(::torch::nn::Conv2dOptions(32, 64, 3)))),
        fc1(register_module("fc1", ::torch::nn::Linear(64 * 12 * 12, 128))),
        fc2(register_module("fc2", ::torch::nn::Linear(128, 10))) {}
  at::Tensor forward(const at::Tensor& x) override {
    auto h = ::torch::relu(conv1(x));                     // 32 × 26 × 26
    h = ::torch::max_pool2d(::torch::relu(conv2(h)), 2);  // 64 × 12 × 12
    return fc2(::torch::relu(fc1(h.flatten(1))));
  }
  ::torch::nn::Conv2d conv1, conv2;
  ::torch::nn::Linear fc1, fc2;
};

/// "lenet" or "wide", initialised from the current torch seed.
inline std::shared_ptr<classifier> make_classifier(const std::string& name) {
  if (name == "lenet") return std::make_shared<lenet5>();
  if (name == "wide") return std::make_shared<wide_cnn>();
  throw std::invalid_argument("unknown network '" + name + "' (lenet or wide)");
}

/// Summed cross-entropy of a batch.
inline at::Tensor summed_loss(classifier& net, const at::Tensor& images, const at::Tensor& labels) {
  return ::torch::nn::functional::cross_entropy(net.forward(images), labels,
                                                ::torch::nn::functional::CrossEntropyFuncOptions().reduction(::torch::kSum));
}

}  // namespace examples
