// SPDX-License-Identifier: MIT
// Fashion-MNIST for the examples: reads the IDX .gz files of Debian's dataset-fashion-mnist
// (/usr/share/datasets/fashion-mnist) with zlib; when they are absent, builds a synthetic
// 10-class data set of the same shape and says so on stderr. Not part of the library.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace examples {

struct labelled_data {
  Eigen::MatrixXd features;  ///< samples × 784, pixel values scaled to [0, 1]
  std::vector<int> labels;   ///< class 0..9 per sample
  bool synthetic = false;    ///< true when the Debian package was not found
};

namespace detail {
inline std::vector<unsigned char> gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return {};
  std::vector<unsigned char> out;
  unsigned char buf[1 << 16];
  for (int n; (n = gzread(f, buf, sizeof buf)) > 0;) out.insert(out.end(), buf, buf + n);
  gzclose(f);
  return out;
}
inline std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
}  // namespace detail

/// Synthetic stand-in: 10 Gaussian class centres in [0,1]^784 with noise; linearly separable-ish
/// like Fashion-MNIST's easy classes, so learning curves have the same shape.
inline labelled_data synthetic_fashion(std::size_t samples, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, 0.35);
  Eigen::MatrixXd centres(10, 784);
  for (Eigen::Index i = 0; i < centres.size(); ++i) centres.data()[i] = uni(rng) < 0.3 ? uni(rng) : 0.0;
  labelled_data out;
  out.synthetic = true;
  out.features.resize(static_cast<Eigen::Index>(samples), 784);
  out.labels.resize(samples);
  for (std::size_t s = 0; s < samples; ++s) {
    const int c = static_cast<int>(rng() % 10);
    out.labels[s] = c;
    for (Eigen::Index j = 0; j < 784; ++j)
      out.features(static_cast<Eigen::Index>(s), j) = std::clamp(centres(c, j) + noise(rng), 0.0, 1.0);
  }
  return out;
}

/// Loads the "train" or "t10k" split, at most `max_samples` samples. Falls back to synthetic data
/// (with a note on stderr) when the package's files are missing or malformed.
inline labelled_data load_fashion_mnist(const std::string& split, std::size_t max_samples,
                                        const std::string& dir = "/usr/share/datasets/fashion-mnist") {
  const auto images = detail::gunzip(dir + "/" + split + "-images-idx3-ubyte.gz");
  const auto labels = detail::gunzip(dir + "/" + split + "-labels-idx1-ubyte.gz");
  if (images.size() < 16 || labels.size() < 8 || detail::be32(images.data()) != 2051 || detail::be32(labels.data()) != 2049) {
    std::fprintf(stderr,
                 "note: Fashion-MNIST not found under %s (Debian package dataset-fashion-mnist); "
                 "using a synthetic 10-class data set of the same shape\n",
                 dir.c_str());
    return synthetic_fashion(max_samples, split == "train" ? 1 : 2);
  }
  const std::size_t count = std::min<std::size_t>(max_samples, detail::be32(images.data() + 4));
  const std::size_t rows = detail::be32(images.data() + 8), cols = detail::be32(images.data() + 12);
  if (rows * cols != 784 || images.size() < 16 + count * 784 || labels.size() < 8 + count)
    throw std::runtime_error("Fashion-MNIST files under " + dir + " are truncated");
  labelled_data out;
  out.features.resize(static_cast<Eigen::Index>(count), 784);
  out.labels.resize(count);
  for (std::size_t s = 0; s < count; ++s) {
    out.labels[s] = labels[8 + s];
    for (std::size_t j = 0; j < 784; ++j)
      out.features(static_cast<Eigen::Index>(s), static_cast<Eigen::Index>(j)) = images[16 + s * 784 + j] / 255.0;
  }
  return out;
}

}  // namespace examples
