// SPDX-License-Identifier: MIT
// 1-bit GC-DL (li-skoglund §III): worker j computes f_j = Σ_{i∈S_j} ∇L_i/(d_i(1−p)) (eq. (5)) and
// sends h_j = Q(f_j) with ‖f_j‖; the update vector is ĝ = Σ_j I_j ‖f_j‖ h_j (eq. (8)), an unbiased
// estimate of ∇L̂ (Lemma 1) with E‖ĝ‖² bounded by Lemma 2. Also the §V baselines — SGC-DL
// (Bitar et al. [22]: real f_j) and ignore-stragglers 1-bit DL (d_i = 1) — and ψ_t = tρ (eq. (29)).
//
// Algorithm of one iteration t (step()): draw I_j^t ~ Bernoulli(1 − p) per worker from the
// counter stream (seed, t); every responder encodes f_j (eq. (5)), quantizes it with the stream
// (seed, j, t) (eq. (4), (6)); decode accumulates ĝ = Σ ‖f_j‖h_j straight from the packed bits (eq. (8)).
//
// Not a gradcode::codec (core/codec.hpp; tests/quantize/gc_dl_test.cpp static_asserts that):
// (1) a 1-bit message is (h ∈ {±1}^w, ‖f_j‖), w + ζ bits, not message_length(d) Scalars, so it
// cannot be a column of the d × f `messages` matrix codec::decode takes; (2) the message depends
// on the iteration t (the draws (seed, j, t) of Q and I_j^t), which codec::encode(node, in, out)
// does not carry; (3) there is no per-pattern solve — every subset of workers, none included,
// decodes to an unbiased estimate — so plan(pattern) would compute nothing and tolerance() is all
// n; (4) w is fixed at construction, where a codec takes any d. Only the SGC-DL baseline fits those
// shapes. The API uses the codec vocabulary as far as it goes: nodes(), partitions() (the m
// samples), partitions_of(), tolerance(), encode / encode_held (f_j of eq. (5)), quantize (Q of
// f_j), and decode(ids, messages, out) → decode_report with exact = false (ĝ estimates ∇L̂, Lemma 1).
//
// Seeds: the run seed lives in the params struct, gc_dl_params::seed (default 0), as in
// one_bit_params, the codes/ params and hgc_params; it used to sit alone in a gc_dl_options, which
// is gone (there are no other knobs to put there).
// One header (~480 lines): one class over one state (placement, weights, quantizer); the kernels are in one_bit_kernels.hpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gradcode/core/assignment.hpp"
#include "gradcode/core/codec.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/pattern.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/detail/weighted_sum.hpp"
#include "gradcode/quantize/counter_rng.hpp"
#include "gradcode/quantize/one_bit.hpp"

namespace gradcode {

/// Which scheme a gc_dl object runs.
enum class gc_dl_method {
  one_bit,            ///< 1-bit GC-DL (li-skoglund §III): h_j = Q(f_j) and ‖f_j‖, ρ = w + ζ
  sgc,                ///< SGC-DL (Bitar et al. [22]): f_j itself, ρ = wζ
  ignore_stragglers,  ///< Ignore-stragglers 1-bit DL (§V-A): the 1-bit scheme on a placement with every d_i = 1
};

/// Printable name of a method ("1-bit GC-DL", "SGC-DL", "Ignore-stragglers 1-bit DL").
inline const char* method_name(gc_dl_method method) {
  switch (method) {
    case gc_dl_method::one_bit:
      return "1-bit GC-DL";
    case gc_dl_method::sgc:
      return "SGC-DL";
    case gc_dl_method::ignore_stragglers:
      return "Ignore-stragglers 1-bit DL";
  }
  return "?";
}

/// What the scheme is; validated by the constructor.
struct gc_dl_params {
  assignment placement{};            ///< S_j: nodes = the n workers, partitions = the m samples (place_samples)
  Index dimension = 0;               ///< w, length of β, of every f_j and of ĝ
  double straggler_probability = 0;  ///< p ∈ [0, 1): each worker straggles independently in each iteration
  gc_dl_method method = gc_dl_method::one_bit;
  std::uint64_t seed = 0;  ///< stragglers I_j^t and Q's draws derive from it (counter-based, reproducible)
};

/// What one simulated iteration did.
struct iteration_report {
  Index responders = 0;    ///< Σ_j I_j^t, the messages sent
  std::uint64_t bits = 0;  ///< responders · ρ
};

/// ψ_t = tρ of li-skoglund eq. (29): the bits each non-straggler worker has sent after t
/// iterations (the x-axis of Figs. 2, 6, 8); also the total over all messages, ρ·Σ_t Σ_j I_j^t.
class communication_counter {
 public:
  /// ρ ≥ 1 bits per message (gc_dl::bits_per_message()); throws invalid_parameters otherwise.
  explicit communication_counter(Index bits_per_message) : m_rho(bits_per_message) {
    if (m_rho < 1)
      throw invalid_parameters("communication_counter: ρ = " + std::to_string(m_rho) + " bits per message; need ρ >= 1");
  }
  /// One iteration in which `messages` workers sent (throws invalid_input when negative).
  void record(Index messages) {
    if (messages < 0) throw invalid_input("communication_counter: " + std::to_string(messages) + " messages in an iteration");
    ++m_iterations;
    m_messages += static_cast<std::uint64_t>(messages);
  }
  void record(const iteration_report& r) { record(r.responders); }
  Index bits_per_message() const noexcept { return m_rho; }
  /// t
  std::uint64_t iterations() const noexcept { return m_iterations; }
  /// ψ_t = tρ
  std::uint64_t psi() const noexcept { return m_iterations * static_cast<std::uint64_t>(m_rho); }
  /// ρ · (messages sent in all t iterations)
  std::uint64_t total_bits() const noexcept { return m_messages * static_cast<std::uint64_t>(m_rho); }

 private:
  Index m_rho;
  std::uint64_t m_iterations = 0, m_messages = 0;
};

/// Right-hand side of Lemma 2, eq. (13): E‖ĝ‖² ≤ Cm² + [w − (1−p)](m² − m)C/(n(1−p)) +
/// [w − (1−p)]C Σ_i 1/d_i/(1−p), for ‖∇L_i‖² ≤ C and a pair-wise balanced placement
/// (m = replications.size() samples, d_i = replications[i]). Throws invalid_parameters naming the
/// argument unless C is finite and ≥ 0, n = workers ≥ 1, p ∈ [0, 1), w ≥ 1 and every d_i ∈ [1, n],
/// or when the bound exceeds the double range.
inline double second_moment_bound(double C, Index workers, double p, Index w, std::span<const Index> replications) {
  if (!(C >= 0) || !std::isfinite(C))
    throw invalid_parameters("second_moment_bound: C = " + detail::format_g(C) + " must be finite and >= 0 (a bound on ‖∇L_i‖²)");
  if (workers < 1) throw invalid_parameters("second_moment_bound: workers n = " + std::to_string(workers) + "; need n >= 1");
  if (!(p >= 0 && p < 1))
    throw invalid_parameters("second_moment_bound: straggler probability p = " + detail::format_g(p) +
                             " must be in [0, 1) (eq. (13) divides by 1 − p)");
  if (w < 1) throw invalid_parameters("second_moment_bound: dimension w = " + std::to_string(w) + "; need w >= 1");
  for (std::size_t i = 0; i < replications.size(); ++i)
    if (replications[i] < 1 || replications[i] > workers)
      throw invalid_parameters("second_moment_bound: replications[" + std::to_string(i) + "] = d_i = " +
                               std::to_string(replications[i]) + " is outside [1, n = " + std::to_string(workers) + "]");
  const double m = static_cast<double>(replications.size()), n = static_cast<double>(workers), q = 1.0 - p;
  double inv_d = 0;
  for (Index d : replications) inv_d += 1.0 / static_cast<double>(d);
  const double a = static_cast<double>(w) - q;
  const double bound = C * m * m + a * (m * m - m) / (n * q) * C + a / q * C * inv_d;
  if (!std::isfinite(bound))
    throw invalid_parameters("second_moment_bound: the bound for C = " + detail::format_g(C) + ", m = " + detail::format_g(m) +
                             ", w = " + std::to_string(w) + ", p = " + detail::format_g(p) + " exceeds the double range");
  return bound;
}

/// The 1-bit GC-DL scheme (or a baseline) over a fixed placement. Immutable after construction;
/// every member is const and may be called from several threads.
template <class Scalar>
class gc_dl {
 public:
  using scalar_type = Scalar;

  /// Throws invalid_parameters when w < 1, p ∉ [0, 1), a sample is on no worker (eq. (5) divides
  /// by d_i), or the method is ignore_stragglers and some d_i ≠ 1.
  explicit gc_dl(gc_dl_params params)
      : m_placement(std::move(params.placement)),
        m_w(params.dimension),
        m_p(params.straggler_probability),
        m_method(params.method),
        m_seed(params.seed),
        m_quantizer(checked_quantizer(params.dimension, params.seed)) {
    if (m_placement.nodes() < 1 || m_placement.partitions() < 1)
      throw invalid_parameters("gc_dl: the placement has n = " + std::to_string(m_placement.nodes()) + " workers and m = " +
                               std::to_string(m_placement.partitions()) + " samples; need both >= 1 (place_samples)");
    if (!(m_p >= 0 && m_p < 1))
      throw invalid_parameters("gc_dl: straggler probability p = " + std::to_string(m_p) +
                               " must be in [0, 1) (eq. (5) divides by 1 − p)");
    const Index n = m_placement.nodes(), m = m_placement.partitions();
    m_weight.resize(static_cast<std::size_t>(m));
    for (Index i = 0; i < m; ++i) {
      const auto d = static_cast<Index>(m_placement.holders_of(i).size());
      if (d == 0)
        throw invalid_parameters("gc_dl: sample " + std::to_string(i) +
                                 " is on no worker (d_i = 0); every sample needs d_i >= 1");
      if (m_method == gc_dl_method::ignore_stragglers && d != 1)
        throw invalid_parameters("gc_dl: ignore-stragglers 1-bit DL places each sample once, sample " + std::to_string(i) +
                                 " has d_i = " + std::to_string(d) + " (use place_samples({... .replication = 1}))");
      m_weight[static_cast<std::size_t>(i)] = 1.0 / (static_cast<double>(d) * (1.0 - m_p));
    }
    std::vector<Eigen::Triplet<Scalar, Index>> triplets;
    for (Index j = 0; j < n; ++j)
      for (Index i : m_placement.partitions_of(j))
        triplets.emplace_back(j, i, static_cast<Scalar>(m_weight[static_cast<std::size_t>(i)]));
    m_encoding.resize(n, m);
    m_encoding.setFromTriplets(triplets.begin(), triplets.end());
    m_encoding.makeCompressed();
  }

  /// n, the workers
  Index nodes() const noexcept { return m_placement.nodes(); }
  /// m, the samples (GC's partitions)
  Index partitions() const noexcept { return m_placement.partitions(); }
  /// S_j, the samples worker j holds, increasing (the column order of encode_held). Throws
  /// invalid_input when j ∉ [0, n).
  std::span<const Index> partitions_of(Index worker) const {
    check_worker(worker);
    return m_placement.partitions_of(worker);
  }
  /// n: any set of workers may straggle — decode of any subset (none: ĝ = 0) is an unbiased
  /// estimate; stragglers cost variance (Lemma 2), not decodability.
  Index tolerance() const noexcept { return m_placement.nodes(); }
  /// w
  Index dimension() const noexcept { return m_w; }
  /// p
  double straggler_probability() const noexcept { return m_p; }
  gc_dl_method method() const noexcept { return m_method; }
  bool sends_bits() const noexcept { return m_method != gc_dl_method::sgc; }
  std::uint64_t seed() const noexcept { return m_seed; }
  const assignment& placement() const noexcept { return m_placement; }
  /// d_i, the workers holding sample i. Throws invalid_input when i ∉ [0, m).
  Index replication(Index sample) const { return static_cast<Index>(m_placement.holders_of(check_sample(sample)).size()); }
  /// 1/(d_i(1−p)), the weight of ∇L_i in eq. (5). Throws invalid_input when i ∉ [0, m).
  double sample_weight(Index sample) const { return m_weight[static_cast<std::size_t>(check_sample(sample))]; }
  /// n × m sparse, row j = the weights of eq. (5) on S_j: the matrix of all f_j is gradients · Eᵀ.
  const sparse_matrix<Scalar>& encoding_matrix() const noexcept { return m_encoding; }
  /// ρ: w + ζ for the 1-bit schemes, wζ for SGC-DL (§III), ζ = 8·sizeof(Scalar).
  Index bits_per_message() const noexcept {
    return sends_bits() ? m_quantizer.bits_per_message() : m_w * one_bit_quantizer<Scalar>::scalar_bits;
  }
  const one_bit_quantizer<Scalar>& quantizer() const noexcept { return m_quantizer; }

  /// I_j^t (eq. (3)): true when worker j is not a straggler in iteration t. Independent over j and
  /// t, P = 1 − p, reproducible from the seed.
  bool responds(Index worker, std::uint64_t iteration) const {
    check_worker(worker);
    return straggler_rng(iteration).uniform(static_cast<std::uint64_t>(worker)) >= m_p;
  }

  /// {j : I_j^t = 1}, increasing.
  std::vector<Index> responders(std::uint64_t iteration) const {
    const auto rng = straggler_rng(iteration);
    std::vector<Index> out;
    for (Index j = 0; j < nodes(); ++j)
      if (rng.uniform(static_cast<std::uint64_t>(j)) >= m_p) out.push_back(j);
    return out;
  }

  /// f_j of eq. (5), worker j's coded update, from all per-sample gradients (w × m, column i =
  /// ∇L(a_i, β_t); only the columns of S_j are read) into `f` (overwritten). Throws invalid_input
  /// on shapes, an `f` overlapping the gradients, or a non-finite result.
  void encode(Index worker, const Eigen::Ref<const matrix<Scalar>>& gradients, Eigen::Ref<vector<Scalar>> f) const {
    check_worker(worker);
    if (gradients.rows() != m_w || gradients.cols() != partitions())
      throw invalid_input("encode: gradients are " + std::to_string(gradients.rows()) + " × " + std::to_string(gradients.cols()) +
                              ", expected w × m = " + std::to_string(m_w) + " × " + std::to_string(partitions()),
                          worker);
    const auto held = m_placement.partitions_of(worker);
    combine(
        worker, held, [&](std::size_t t) { return gradients.data() + held[t] * gradients.outerStride(); }, f);
  }

  /// f_j of eq. (5) from the gradients of the samples worker j holds only (w × |S_j|, columns in
  /// the order of partitions_of(j)) — what a worker has in memory.
  void encode_held(Index worker, const Eigen::Ref<const matrix<Scalar>>& held_gradients, Eigen::Ref<vector<Scalar>> f) const {
    check_worker(worker);
    const auto held = m_placement.partitions_of(worker);
    if (held_gradients.rows() != m_w || held_gradients.cols() != static_cast<Index>(held.size()))
      throw invalid_input("encode_held: worker " + std::to_string(worker) + " holds " + std::to_string(held.size()) +
                              " samples, got " + std::to_string(held_gradients.rows()) + " × " +
                              std::to_string(held_gradients.cols()) + " gradients (w = " + std::to_string(m_w) + ")",
                          worker);
    combine(
        worker, held, [&](std::size_t t) { return held_gradients.data() + static_cast<Index>(t) * held_gradients.outerStride(); },
        f);
  }

  /// Worker j's message in iteration t: h_j = Q(f_j) and ‖f_j‖ (eqs. (4), (6)) with the draws of
  /// stream (seed, j, t), into `out` (words resized once, then reused). Throws invalid_input for
  /// SGC-DL (its message is f_j itself), on a bad worker id, or as one_bit_quantizer::quantize
  /// does; `out` is untouched then.
  void quantize(Index worker, std::uint64_t iteration, const Eigen::Ref<const vector<Scalar>>& f,
                one_bit_vector<Scalar>& out) const {
    check_worker(worker);
    if (!sends_bits())
      throw invalid_input("quantize: SGC-DL sends the real vector f_j itself; there is nothing to quantize", worker);
    m_quantizer.quantize(f, {.worker = static_cast<std::uint64_t>(worker), .iteration = iteration}, out);
  }

  /// ĝ = Σ_{j ∈ ids} ‖f_j‖ h_j (eq. (8)) into `out` from the messages of the workers that
  /// arrived, any order, any subset (none: ĝ = 0); messages[t] came from worker ids[t]. The report
  /// lists the ids used, ascending, with exact = false (ĝ is an unbiased estimate, Lemma 1).
  /// Throws invalid_input naming the node on a repeated or out-of-range id, a malformed message, a
  /// count/shape mismatch, or when adding its message makes a coordinate of ĝ leave the Scalar
  /// range (valid norms near FLT_MAX/DBL_MAX summed over workers); `out` is untouched then.
  decode_report decode(std::span<const Index> ids, std::span<const one_bit_vector<Scalar>> messages,
                       Eigen::Ref<vector<Scalar>> out) const {
    return decode_bits(ids, messages, out);
  }
  /// As above over views, e.g. messages parsed by quantizer().from_wire into one receive buffer.
  decode_report decode(std::span<const Index> ids, std::span<const one_bit_view<Scalar>> messages,
                       Eigen::Ref<vector<Scalar>> out) const {
    return decode_bits(ids, messages, out);
  }

  /// SGC-DL's update ĝ = Σ_{j ∈ ids} f_j (messages w × f, column t from worker ids[t]) into `out`.
  /// The report lists the ids used, ascending; exact = true only when p = 0 and all n workers
  /// arrived (then ĝ = Σ_i ∇L_i; estimated_error = (n − 1)·u, u = ε/2, the recursive-sum bound
  /// relative to Σ_t |f_t|),
  /// else ĝ is the unbiased estimate. Throws invalid_input naming the node on a repeated/out-of-range
  /// id, a shape mismatch, NaN/Inf, or when adding its message makes a coordinate of ĝ overflow;
  /// `out` is untouched then.
  decode_report decode(std::span<const Index> ids, const Eigen::Ref<const matrix<Scalar>>& messages,
                       Eigen::Ref<vector<Scalar>> out) const {
    if (sends_bits()) throw invalid_input("decode: " + std::string(method_name(m_method)) + " messages are 1-bit vectors");
    if (static_cast<Index>(ids.size()) != messages.cols() || messages.rows() != m_w)
      throw invalid_input("decode: " + std::to_string(ids.size()) + " worker ids for a " + std::to_string(messages.rows()) +
                          " × " + std::to_string(messages.cols()) + " message matrix (w = " + std::to_string(m_w) + ")");
    check_out(out.size());
    (void)pattern::from_ids(nodes(), ids);
    if (detail::overlaps(out.data(), m_w, messages.data(),
                         messages.cols() > 0 ? (messages.cols() - 1) * messages.outerStride() + m_w : 0))
      throw invalid_input("decode: the output overlaps the messages");
    for (Index t = 0; t < messages.cols(); ++t)
      if (!messages.col(t).allFinite())
        throw invalid_input("decode: the message of worker " + std::to_string(ids[static_cast<std::size_t>(t)]) + " has NaN/Inf",
                            ids[static_cast<std::size_t>(t)]);
    // |partial sums| ≤ Σ_t max|column t| (added in the same order): when that is finite, no
    // coordinate can overflow and the sum goes straight into out.
    Scalar bound = 0;
    for (Index t = 0; t < messages.cols(); ++t) bound += messages.col(t).cwiseAbs().maxCoeff();
    if (bound <= std::numeric_limits<Scalar>::max()) {
      out.setZero();
      for (Index t = 0; t < messages.cols(); ++t) out += messages.col(t);  // in id order, as step() adds them
      return sum_report(ids);
    }
    vector<Scalar> sum = vector<Scalar>::Zero(m_w);
    for (Index t = 0; t < messages.cols(); ++t) {
      sum += messages.col(t);
      if (!sum.allFinite())
        throw invalid_input(
            "decode: the sum overflows when adding the message of worker " + std::to_string(ids[static_cast<std::size_t>(t)]),
            ids[static_cast<std::size_t>(t)]);
    }
    out = sum;
    return sum_report(ids);
  }

  /// One simulated iteration t: the responders I_j^t = 1 each compute f_j by
  /// `local(j, Eigen::Ref<vector<Scalar>> f)` (f arrives zeroed; e.g. a call to encode), send Q(f_j)
  /// and ‖f_j‖ (or f_j for SGC-DL), and `g_hat` becomes eq. (8)'s ĝ. Allocates its scratch (n·(w/64) words, one w-vector).
  /// Throws invalid_input (naming the worker) when a local update has NaN/Inf or ĝ overflows when
  /// its message is added; `g_hat` is then untouched.
  template <class LocalUpdate>
  iteration_report step(std::uint64_t iteration, LocalUpdate&& local, Eigen::Ref<vector<Scalar>> g_hat) const {
    check_out(g_hat.size());
    const auto ids = responders(iteration);
    vector<Scalar> f(m_w);
    if (!sends_bits()) {
      vector<Scalar> sum = vector<Scalar>::Zero(m_w);
      for (Index j : ids) {
        f.setZero();
        local(j, Eigen::Ref<vector<Scalar>>(f));
        if (!f.allFinite()) throw invalid_input("step: worker " + std::to_string(j) + "'s local update has NaN/Inf", j);
        sum += f;
        if (!sum.allFinite()) throw invalid_input("step: ĝ overflows when adding the update of worker " + std::to_string(j), j);
      }
      g_hat = sum;
    } else {
      const Index wc = m_quantizer.word_count();
      std::vector<std::uint64_t> words(ids.size() * static_cast<std::size_t>(wc));
      std::vector<const std::uint64_t*> ptrs(ids.size());
      std::vector<Scalar> scales(ids.size());
      for (std::size_t t = 0; t < ids.size(); ++t) {
        f.setZero();
        local(ids[t], Eigen::Ref<vector<Scalar>>(f));
        ptrs[t] = words.data() + t * static_cast<std::size_t>(wc);
        scales[t] = m_quantizer.quantize(
            f, {.worker = static_cast<std::uint64_t>(ids[t]), .iteration = iteration},
            std::span<std::uint64_t>(words.data() + t * static_cast<std::size_t>(wc), static_cast<std::size_t>(wc)));
      }
      detail::checked_accumulate<Scalar>(
          static_cast<Index>(ids.size()), ptrs.data(), scales.data(), m_w, g_hat.data(), true,
          [&](Index t) { return static_cast<long long>(ids[static_cast<std::size_t>(t)]); }, "step");
    }
    return {static_cast<Index>(ids.size()),
            static_cast<std::uint64_t>(ids.size()) * static_cast<std::uint64_t>(bits_per_message())};
  }

  /// The exact E‖ĝ‖² over stragglers and Q for given local updates (w × n, column j = f_j), from
  /// Appendix A: ‖(1−p)Σf_j‖² + [(1−p)w − (1−p)²]Σ‖f_j‖² for the 1-bit schemes (eqs. (33)–(34)),
  /// ‖(1−p)Σf_j‖² + p(1−p)Σ‖f_j‖² for SGC-DL. Holds for any placement. Throws invalid_input on
  /// shapes, on NaN/Inf in an update (naming the worker) or when the value exceeds the double range.
  double expected_squared_norm(const Eigen::Ref<const matrix<Scalar>>& updates) const {
    if (updates.rows() != m_w || updates.cols() != nodes())
      throw invalid_input("expected_squared_norm: updates are " + std::to_string(updates.rows()) + " × " +
                          std::to_string(updates.cols()) + ", expected w × n = " + std::to_string(m_w) + " × " +
                          std::to_string(nodes()));
    for (Index j = 0; j < updates.cols(); ++j)
      if (!updates.col(j).allFinite())
        throw invalid_input("expected_squared_norm: the update of worker " + std::to_string(j) + " has NaN/Inf", j);
    const matrix<double> F = updates.template cast<double>();
    const double q = 1.0 - m_p, mean = (q * F.rowwise().sum()).squaredNorm(), self = F.colwise().squaredNorm().sum();
    const double value = mean + (sends_bits() ? q * static_cast<double>(m_w) - q * q : m_p * q) * self;
    if (!std::isfinite(value)) throw invalid_input("expected_squared_norm: E‖ĝ‖² of these updates exceeds the double range");
    return value;
  }

 private:
  template <class Message>
  decode_report decode_bits(std::span<const Index> ids, std::span<const Message> messages, Eigen::Ref<vector<Scalar>> out) const {
    if (!sends_bits()) throw invalid_input("decode: SGC-DL messages are real vectors; pass them as a w × f matrix");
    if (ids.size() != messages.size())
      throw invalid_input("decode: " + std::to_string(ids.size()) + " worker ids for " + std::to_string(messages.size()) +
                          " messages");
    check_out(out.size());
    (void)pattern::from_ids(nodes(), ids);  // throws on repeats / out of range
    std::vector<const std::uint64_t*> words(messages.size());
    std::vector<Scalar> scales(messages.size());
    for (std::size_t t = 0; t < messages.size(); ++t) {
      m_quantizer.check_message(messages[t], static_cast<long long>(ids[t]));
      words[t] = messages[t].words.data();
      scales[t] = messages[t].scale;
    }
    detail::checked_accumulate<Scalar>(
        static_cast<Index>(messages.size()), words.data(), scales.data(), m_w, out.data(), true,
        [&](Index t) { return static_cast<long long>(ids[static_cast<std::size_t>(t)]); }, "decode");
    decode_report report;
    report.used = detail::sorted_ids(ids);
    report.exact = false;
    return report;
  }

  decode_report sum_report(std::span<const Index> ids) const {
    decode_report report;
    report.used = detail::sorted_ids(ids);
    report.exact = m_p == 0 && static_cast<Index>(ids.size()) == nodes();
    if (report.exact && !ids.empty())
      report.estimated_error = static_cast<double>(ids.size() - 1) * std::numeric_limits<Scalar>::epsilon() / 2;
    return report;
  }

  static one_bit_quantizer<Scalar> checked_quantizer(Index w, std::uint64_t seed) {
    if (w < 1) throw invalid_parameters("gc_dl: dimension w = " + std::to_string(w) + "; need w >= 1");
    return one_bit_quantizer<Scalar>({.length = w, .seed = seed});
  }

  counter_rng straggler_rng(std::uint64_t iteration) const {
    return counter_rng::stream(m_seed, rng_domain::stragglers, iteration);
  }

  void check_worker(Index worker) const {
    if (worker < 0 || worker >= nodes())
      throw invalid_input("worker id " + std::to_string(worker) + " is outside [0, n = " + std::to_string(nodes()) + ")", worker);
  }

  void check_out(Index size) const {
    if (size != m_w) throw invalid_input("output has length " + std::to_string(size) + ", w = " + std::to_string(m_w));
  }

  Index check_sample(Index sample) const {
    if (sample < 0 || sample >= partitions())
      throw invalid_input("sample " + std::to_string(sample) + " is outside [0, m = " + std::to_string(partitions()) + ")");
    return sample;
  }

  template <class Column>
  void combine(Index worker, std::span<const Index> held, Column&& column, Eigen::Ref<vector<Scalar>> f) const {
    if (f.size() != m_w)
      throw invalid_input("encode: output has length " + std::to_string(f.size()) + ", w = " + std::to_string(m_w), worker);
    for (std::size_t t = 0; t < held.size(); ++t)  // f is written while the gradients are read
      if (detail::overlaps(f.data(), m_w, column(t), m_w))
        throw invalid_input("encode: the output f overlaps a gradient worker " + std::to_string(worker) + " reads", worker);
    const Index bad = detail::weighted_sum<Scalar>(
        static_cast<Index>(held.size()), m_w,
        [&](Index t) { return static_cast<Scalar>(m_weight[static_cast<std::size_t>(held[static_cast<std::size_t>(t)])]); },
        [&](Index t) { return column(static_cast<std::size_t>(t)); }, f.data());
    if (bad >= 0)
      throw invalid_input("encode: worker " + std::to_string(worker) + "'s f_j is not finite near element " +
                              std::to_string(bad * detail::weighted_sum_block) + " (NaN/Inf in a gradient it holds)",
                          worker);
  }

  assignment m_placement;
  Index m_w;
  double m_p;
  gc_dl_method m_method;
  std::uint64_t m_seed;
  one_bit_quantizer<Scalar> m_quantizer;
  std::vector<double> m_weight;  // 1/(d_i(1−p)) per sample
  sparse_matrix<Scalar> m_encoding;
};

}  // namespace gradcode
