// SPDX-License-Identifier: MIT
// Python bindings of the quantized and dynamic schemes: li-skoglund's 1-bit quantizer and GC-DL
// (include/gradcode/quantize/: one_bit_quantizer_f64/_f32, one_bit_vector_f64/_f32, gc_dl_f64/_f32,
// the sample placements) and wang's two-stage code (include/gradcode/dynamic/two_stage.hpp).
#include <cstring>

#include "common.hpp"
#include "linear.hpp"

#include "gradcode/dynamic/two_stage.hpp"
#include "gradcode/quantize/gc_dl.hpp"
#include "gradcode/quantize/one_bit.hpp"
#include "gradcode/quantize/placement.hpp"

namespace gradcode_python {

void bind_two_stage(py::module_& m);  // below

namespace {

using gradcode::decode_report;
using gradcode::gc_dl_params;
using gradcode::one_bit_params;

template <class Scalar>
using bits = gradcode::one_bit_vector<Scalar>;

/// The messages of a decode/accumulate: one one_bit_vector or a sequence of them.
template <class Scalar>
std::vector<bits<Scalar>> message_list(py::handle messages) {
  if (py::isinstance<bits<Scalar>>(messages)) return {messages.cast<bits<Scalar>>()};
  return messages.cast<std::vector<bits<Scalar>>>();
}

/// Wire bytes of any buffer (bytes, bytearray, memoryview, numpy uint8), without a copy.
inline std::span<const std::byte> bytes_of(const py::buffer_info& info) {
  if (info.ndim != 1 || (info.shape[0] > 1 && info.strides[0] != info.itemsize))
    throw gradcode::invalid_input("from_wire: the buffer must be 1-D and contiguous");
  return {static_cast<const std::byte*>(info.ptr), static_cast<std::size_t>(info.shape[0] * info.itemsize)};
}

template <class Scalar>
void bind_bits(py::module_& m) {
  using v = bits<Scalar>;
  const std::string name = std::string("one_bit_vector_") + suffix<Scalar>();
  py::class_<v>(m, name.c_str(),
                "A 1-bit message: w signs packed in ceil(w/64) uint64 words plus the scale ||f|| (quantize/one_bit_wire.hpp).")
      .def(py::init([](Index length, Scalar scale, const std::vector<std::uint64_t>& words) {
             return v{length, scale, words};
           }),
           py::arg("length"), py::arg("scale"), py::arg("words"))
      .def_readonly("length", &v::length, "w")
      .def_readonly("scale", &v::scale, "||f||, sent beside the bits")
      .def_property_readonly(
          "words",
          [](py::object self) {
            auto& h = self.cast<v&>();
            return py::array_t<std::uint64_t>(static_cast<py::ssize_t>(h.words.size()), h.words.data(), self);
          },
          "The packed signs as a uint64 numpy view (bit b of word q is h_{64q+b} = +1).")
      .def("sign", &v::sign, py::arg("k"), "h_k in {-1, +1}.")
      .def(py::pickle([](const v& h) { return py::make_tuple(h.length, h.scale, h.words); },
                      [](const py::tuple& t) {
                        if (t.size() != 3) throw gradcode::invalid_input("cannot unpickle a one_bit_vector: wrong state size");
                        return v{t[0].cast<Index>(), t[1].cast<Scalar>(), t[2].cast<std::vector<std::uint64_t>>()};
                      }));
}

template <class Scalar>
void bind_quantizer(py::module_& m) {
  using q = gradcode::one_bit_quantizer<Scalar>;
  using gradcode::draw_stream;
  const std::string name = std::string("one_bit_quantizer_") + suffix<Scalar>();
  py::class_<q>(m, name.c_str(),
                "The stochastic 1-bit quantizer Q of li-skoglund eq. (6): h = Q(f) in {+-1}^w plus ||f||, unbiased "
                "(E[||f|| h] = f). Build with gradcode.one_bit_quantizer(length, seed, dtype=...).")
      .def(py::init([](Index length, std::uint64_t seed) { return q(one_bit_params{.length = length, .seed = seed}); }),
           py::arg("length"), py::arg("seed") = std::uint64_t{0})
      .def(py::init<const one_bit_params&>(), py::arg("params"))
      .def_property_readonly("params", [](const q& c) { return one_bit_params{.length = c.length(), .seed = c.seed()}; })
      .def_property_readonly("dtype", [](const q&) { return py::dtype::of<Scalar>(); })
      .def(py::pickle([](const q& c) { return py::make_tuple(c.length(), c.seed()); },
                      [](const py::tuple& t) {
                        if (t.size() != 2) throw gradcode::invalid_input("cannot unpickle a one_bit_quantizer: wrong state size");
                        return q(one_bit_params{.length = t[0].cast<Index>(), .seed = t[1].cast<std::uint64_t>()});
                      }))
      .def("length", &q::length, "w")
      .def("seed", &q::seed)
      .def("word_count", &q::word_count, "ceil(w/64)")
      .def("bits_per_message", &q::bits_per_message, "rho = w + zeta")
      .def("wire_bytes", &q::wire_bytes, "zeta/8 + ceil(w/8)")
      .def(
          "quantize",
          [](const q& c, py::handle f, std::uint64_t worker, std::uint64_t iteration) {
            auto in = cvector_view<Scalar>::make(f, "f");
            bits<Scalar> out;
            {
              py::gil_scoped_release nogil;
              c.quantize(in.map, draw_stream{worker, iteration}, out);
            }
            return out;
          },
          py::arg("f"), py::kw_only(), py::arg("worker") = std::uint64_t{0}, py::arg("iteration") = std::uint64_t{0},
          "h = Q(f) with the draws of stream (seed, worker, iteration); returns a one_bit_vector.")
      .def(
          "quantize_into",
          [](const q& c, py::handle f, py::array words, std::uint64_t worker, std::uint64_t iteration) {
            auto in = cvector_view<Scalar>::make(f, "f");
            if (!py::isinstance<py::array_t<std::uint64_t>>(words) || words.ndim() != 1 || !words.writeable() ||
                (words.shape(0) > 1 && words.strides(0) != 8))
              throw gradcode::invalid_input(
                  "quantize_into: words must be a writable contiguous 1-D uint64 array of word_count()");
            std::span<std::uint64_t> w(static_cast<std::uint64_t*>(words.mutable_data()),
                                       static_cast<std::size_t>(words.shape(0)));
            py::gil_scoped_release nogil;
            return c.quantize(in.map, draw_stream{worker, iteration}, w);
          },
          py::arg("f"), py::arg("words"), py::kw_only(), py::arg("worker") = std::uint64_t{0},
          py::arg("iteration") = std::uint64_t{0},
          "h = Q(f) written into `words` (uint64, word_count() of them, in place); returns ||f||.")
      .def(
          "dequantize",
          [](const q& c, const bits<Scalar>& h, py::handle out) {
            auto o = out_view<Scalar>::make(out, c.length());
            {
              py::gil_scoped_release nogil;
              c.dequantize(h, o.map);
            }
            return o.result;
          },
          py::arg("h"), py::kw_only(), py::arg("out") = py::none(), "out = ||f|| h.")
      .def(
          "accumulate",
          [](const q& c, py::handle messages, py::handle out, std::optional<Scalar> weight) {
            auto o = out_view<Scalar>::make(out, c.length());
            if (py::isinstance<bits<Scalar>>(messages)) {
              const auto& h = messages.cast<const bits<Scalar>&>();
              py::gil_scoped_release nogil;
              c.accumulate(h, weight.value_or(h.scale), o.map);
            } else {
              if (weight) throw gradcode::invalid_input("accumulate: weight applies to one message, not a list");
              const auto list = message_list<Scalar>(messages);
              py::gil_scoped_release nogil;
              c.accumulate(std::span<const bits<Scalar>>(list), o.map);
            }
            return o.result;
          },
          py::arg("messages"), py::arg("out"), py::kw_only(), py::arg("weight") = py::none(),
          "out += weight * h_signs for one message (weight defaults to its scale ||f||, i.e. the dequantized message), or "
          "out += sum_j ||f_j|| h_j over a list (eq. 8); out is required (in place).")
      .def(
          "to_wire",
          [](const q& c, const bits<Scalar>& h) {
            const auto wire = c.to_wire(h);
            return py::bytes(reinterpret_cast<const char*>(wire.data()), wire.size());
          },
          py::arg("h"), "The wire form of h (quantize/one_bit_wire.hpp) as bytes.")
      .def(
          "from_wire",
          [](const q& c, const py::buffer& data, long long node) {
            const auto info = data.request();
            return c.from_wire(bytes_of(info), node);
          },
          py::arg("data"), py::arg("node") = -1LL,
          "Parses a wire message (any bytes-like object) from `node`; raises InvalidInput.");
}

template <class Scalar>
void bind_gc_dl(py::module_& m) {
  using code = gradcode::gc_dl<Scalar>;
  struct holder : code {  // gc_dl has no options struct; keeps its params for pickling
    gc_dl_params params;
    explicit holder(const gc_dl_params& p) : code(p), params(p) {}
  };
  const std::string name = std::string("gc_dl_") + suffix<Scalar>();
  py::class_<code>(m, (name + "_base").insert(0, "_").c_str());  // hidden base: methods take `const code&`
  py::class_<holder, code> cls(m, name.c_str(),
                               "1-bit GC-DL (li-skoglund): workers send Q(f_j) and ||f_j||; the master's sum over the arrived "
                               "ones is an unbiased estimate of the gradient. Also SGC-DL and ignore-stragglers (method=). Build "
                               "with gradcode.gc_dl(placement, dimension, straggler_probability, dtype=...).");
  cls.def(py::init([](const gc_dl_params& p) { return new holder(p); }), py::arg("params"))
      .def(py::init(
               [](gradcode::assignment placement, Index dimension, double p, gradcode::gc_dl_method method, std::uint64_t seed) {
                 return new holder(gc_dl_params{.placement = std::move(placement),
                                                .dimension = dimension,
                                                .straggler_probability = p,
                                                .method = method,
                                                .seed = seed});
               }),
           py::arg("placement"), py::arg("dimension"), py::arg("straggler_probability") = 0.0, py::kw_only(),
           py::arg("method") = gradcode::gc_dl_method::one_bit, py::arg("seed") = std::uint64_t{0})
      .def_property_readonly("params", [](const holder& c) { return c.params; })
      .def_property_readonly("dtype", [](const holder&) { return py::dtype::of<Scalar>(); })
      .def(py::pickle([](const holder& c) { return py::make_tuple(c.params); },
                      [](const py::tuple& t) {
                        if (t.size() != 1) throw gradcode::invalid_input("cannot unpickle a gc_dl: wrong state size");
                        return new holder(t[0].cast<gc_dl_params>());
                      }))
      .def("nodes", &code::nodes, "n, the workers")
      .def("partitions", &code::partitions, "m, the samples")
      .def(
          "partitions_of", [](const code& c, Index w) { return list_of(c.partitions_of(w)); }, py::arg("worker"), "S_j")
      .def("tolerance", &code::tolerance)
      .def("dimension", &code::dimension, "w")
      .def("straggler_probability", &code::straggler_probability, "p")
      .def("method", &code::method)
      .def("sends_bits", &code::sends_bits)
      .def("seed", &code::seed)
      .def("placement", &code::placement)
      .def("replication", &code::replication, py::arg("sample"), "d_i")
      .def("sample_weight", &code::sample_weight, py::arg("sample"), "1/(d_i (1 - p))")
      .def(
          "encoding_matrix", [](const code& c) { return dense_of(c.encoding_matrix()); }, "n x m weights as dense float64.")
      .def("bits_per_message", &code::bits_per_message)
      .def("quantizer", &code::quantizer, py::return_value_policy::reference_internal)
      .def("responds", &code::responds, py::arg("worker"), py::arg("iteration"), "I_j^t (deterministic from the seed)")
      .def("responders", &code::responders, py::arg("iteration"))
      .def(
          "encode",
          [](const code& c, Index worker, py::handle gradients, py::handle out) {
            auto in = matrix_view<Scalar>::make(gradients, "gradients");
            auto o = out_view<Scalar>::make(out, c.dimension());
            {
              py::gil_scoped_release nogil;
              c.encode(worker, in.map, o.map);
            }
            return o.result;
          },
          py::arg("worker"), py::arg("gradients"), py::kw_only(), py::arg("out") = py::none(),
          "f_j of eq. (5) from all per-sample gradients (w x m column-major). Returns out.")
      .def(
          "encode_held",
          [](const code& c, Index worker, py::handle held, py::handle out) {
            auto in = matrix_view<Scalar>::make(held, "held", true);
            auto o = out_view<Scalar>::make(out, c.dimension());
            {
              py::gil_scoped_release nogil;
              c.encode_held(worker, in.map, o.map);
            }
            return o.result;
          },
          py::arg("worker"), py::arg("held"), py::kw_only(), py::arg("out") = py::none())
      .def(
          "quantize",
          [](const code& c, Index worker, std::uint64_t iteration, py::handle f) {
            auto in = cvector_view<Scalar>::make(f, "f");
            bits<Scalar> out;
            {
              py::gil_scoped_release nogil;
              c.quantize(worker, iteration, in.map, out);
            }
            return out;
          },
          py::arg("worker"), py::arg("iteration"), py::arg("f"), "Worker j's message Q(f_j) in iteration t.")
      .def(
          "decode",
          [](const code& c, const id_list& ids, py::handle messages, py::handle out) {
            auto o = out_view<Scalar>::make(out, c.dimension());
            decode_report r;
            if (c.sends_bits()) {
              const auto list = message_list<Scalar>(messages);
              py::gil_scoped_release nogil;
              r = c.decode(ids, std::span<const bits<Scalar>>(list), o.map);
            } else {
              auto msg = matrix_view<Scalar>::make(messages, "messages", true);
              py::gil_scoped_release nogil;
              r = c.decode(ids, msg.map, o.map);
            }
            return py::make_tuple(o.result, r);
          },
          py::arg("ids"), py::arg("messages"), py::kw_only(), py::arg("out") = py::none(),
          "g-hat = sum_j ||f_j|| h_j (eq. 8) from the one_bit_vectors of workers `ids` (SGC-DL: the w x f message matrix). "
          "Returns (out, decode_report) with exact = False.")
      .def(
          "step",
          [](const code& c, std::uint64_t iteration, const py::function& local, py::handle out) {
            auto o = out_view<Scalar>::make(out, c.dimension());
            const py::capsule no_owner(o.map.data(), [](void*) {});
            const auto r = c.step(
                iteration,
                [&](Index j, Eigen::Ref<gradcode::vector<Scalar>> f) {
                  py::array_t<Scalar> view(static_cast<py::ssize_t>(f.size()), f.data(), no_owner);  // no copy: f's memory
                  local(j, view);
                },
                o.map);
            return py::make_tuple(o.result, py::make_tuple(r.responders, r.bits));
          },
          py::arg("iteration"), py::arg("local"), py::kw_only(), py::arg("out") = py::none(),
          "One simulated iteration: local(j, f) fills the zeroed numpy vector f for each responder j. Returns (g_hat, "
          "(responders, bits)).")
      .def(
          "expected_squared_norm",
          [](const code& c, py::handle updates) {
            auto in = matrix_view<Scalar>::make(updates, "updates");
            return c.expected_squared_norm(in.map);
          },
          py::arg("updates"), "Exact E||g-hat||^2 over stragglers and Q for local updates (w x n, column j = f_j).");
}

template <class Scalar>
void bind_two_stage_scalar(py::module_& m) {
  using gradcode::two_stage_options;
  using gradcode::two_stage_params;
  using first = gradcode::two_stage_code<Scalar>;
  using second = gradcode::stage_two_code<Scalar>;
  struct holder : first {  // keeps the params for pickling and `params`
    two_stage_params params;
    holder(const two_stage_params& p, const two_stage_options& o) : first(p, o), params(p) {}
  };
  const std::string name = std::string("two_stage_code_") + suffix<Scalar>();
  py::class_<first>(m, (name + "_base").insert(0, "_").c_str());  // hidden base: methods take `const first&`
  py::class_<holder, first>(m, name.c_str(),
                            "Stage 1 of a TSDCFL epoch (wang, dynamic/two_stage.hpp): M1 workers compute uncoded blocks; at the "
                            "deadline stage_two(finished, s) codes the rest over the other workers. Build with "
                            "gradcode.two_stage_code(throughputs, partitions, stage_one_workers, dtype=...).")
      .def(py::init([](const two_stage_params& p, const std::optional<two_stage_options>& o) {
             return new holder(p, options_or_default(o));
           }),
           py::arg("params"), py::kw_only(), py::arg("options") = py::none())
      .def(py::init([](std::vector<double> throughputs, Index partitions, std::vector<Index> stage_one_workers,
                       std::uint64_t seed, const std::optional<two_stage_options>& o) {
             two_stage_params p{};
             p.throughputs = std::move(throughputs);
             p.partitions = partitions;
             p.stage_one_workers = std::move(stage_one_workers);
             p.seed = seed;
             return new holder(p, options_or_default(o));
           }),
           py::arg("throughputs"), py::arg("partitions"), py::arg("stage_one_workers"), py::kw_only(),
           py::arg("seed") = std::uint64_t{1}, py::arg("options") = py::none())
      .def_property_readonly("params", [](const holder& c) { return c.params; })
      .def_property_readonly("options", [](const holder& c) { return c.options(); })
      .def_property_readonly("dtype", [](const holder&) { return py::dtype::of<Scalar>(); })
      .def(py::pickle([](const holder& c) { return py::make_tuple(c.params, c.options()); },
                      [](const py::tuple& t) {
                        if (t.size() != 2) throw gradcode::invalid_input("cannot unpickle a two_stage_code: wrong state size");
                        return new holder(t[0].cast<two_stage_params>(), t[1].cast<two_stage_options>());
                      }))
      .def("workers", &first::workers, "M")
      .def("partitions", &first::partitions, "K")
      .def(
          "stage_one_workers", [](const first& c) { return list_of(c.stage_one_workers()); },
          "The M1 stage-1 workers, increasing.")
      .def("throughputs", &first::throughputs)
      .def("seed", &first::seed)
      .def("is_stage_one", &first::is_stage_one, py::arg("worker"))
      .def("stage_one_load", &first::stage_one_load, py::arg("worker"))
      .def("stage_one_first", &first::stage_one_first, py::arg("worker"))
      .def("owner", &first::owner, py::arg("partition"))
      .def(
          "encode_stage_one",
          [](const first& c, Index worker, py::handle partials, py::handle out) {
            auto in = matrix_view<Scalar>::make(partials, "partials");
            auto o = out_view<Scalar>::make(out, in.map.rows());
            {
              py::gil_scoped_release nogil;
              c.encode_stage_one(worker, in.map, o.map);
            }
            return o.result;
          },
          py::arg("worker"), py::arg("partials"), py::kw_only(), py::arg("out") = py::none(),
          "Stage-1 message: the plain sum of the worker's block of the d x K partials.")
      .def(
          "stage_two", [](const first& c, const id_list& finished, Index s) { return c.stage_two(finished, s); },
          py::arg("finished"), py::arg("straggler_tolerance"),
          "Stage 2 after the deadline: the stage-1 workers `finished` delivered; tolerate s stragglers among the rest.");

  const std::string name2 = std::string("stage_two_code_") + suffix<Scalar>();
  py::class_<second>(m, name2.c_str(), "Stage 2 of an epoch and the master's decode (a codec over the M workers).")
      .def("workers", &second::workers)
      .def("nodes", &second::nodes)
      .def("partitions", &second::partitions)
      .def("coded", &second::coded, "True when stage 2 codes anything (K_c < K).")
      .def("tolerance", &second::tolerance)
      .def("finished_workers", [](const second& c) { return list_of(c.finished_workers()); })
      .def("covered_partitions", [](const second& c) { return list_of(c.covered_partitions()); })
      .def("remaining_partitions", [](const second& c) { return list_of(c.remaining_partitions()); })
      .def("remaining", &second::remaining)
      .def("stage_two_workers", [](const second& c) { return list_of(c.stage_two_workers()); })
      .def("stage_one_coefficients", [](const second& c) { return numpy_of(c.stage_one_coefficients()); })
      .def("responders_needed", &second::responders_needed)
      .def("stage_two_index", &second::stage_two_index, py::arg("worker"))
      .def("code", &second::code, py::return_value_policy::reference_internal, "The stage-2 linear code (precondition: coded()).")
      .def("stage_two_partitions", &second::stage_two_partitions, py::arg("worker"))
      .def("stage_two_load", &second::stage_two_load, py::arg("worker"))
      .def("new_worker_loads", [](const second& c) { return list_of(c.new_worker_loads()); })
      .def("message_length", &second::message_length, py::arg("d"))
      .def(
          "partitions_of", [](const second& c, Index w) { return list_of(c.partitions_of(w)); }, py::arg("worker"))
      .def("load", &second::load, py::arg("worker"))
      .def(
          "encode",
          [](const second& c, Index worker, py::handle partials, py::handle out) {
            auto in = matrix_view<Scalar>::make(partials, "partials");
            auto o = out_view<Scalar>::make(out, in.map.rows());
            {
              py::gil_scoped_release nogil;
              c.encode(worker, in.map, o.map);
            }
            return o.result;
          },
          py::arg("worker"), py::arg("partials"), py::kw_only(), py::arg("out") = py::none(),
          "The message `worker` sends this epoch (stage-1 block sum or stage-2 message).")
      .def(
          "encode_held",
          [](const second& c, Index worker, py::handle held, py::handle out) {
            auto in = matrix_view<Scalar>::make(held, "held", true);
            auto o = out_view<Scalar>::make(out, in.map.rows());
            {
              py::gil_scoped_release nogil;
              c.encode_held(worker, in.map, o.map);
            }
            return o.result;
          },
          py::arg("worker"), py::arg("held"), py::kw_only(), py::arg("out") = py::none())
      .def(
          "decodable",
          [](const second& c, const id_list& ids) { return c.decodable(gradcode::pattern::from_ids(c.nodes(), ids)); },
          py::arg("ids"))
      .def(
          "plan",
          [](const second& c, const id_list& ids) {
            return std::const_pointer_cast<gradcode::decoding_plan<Scalar>>(c.plan(gradcode::pattern::from_ids(c.nodes(), ids)));
          },
          py::arg("ids"))
      .def(
          "decode",
          [](const second& c, const id_list& ids, py::handle messages, py::handle out) {
            auto msg = matrix_view<Scalar>::make(messages, "messages", true);
            auto o = out_view<Scalar>::make(out, msg.map.rows());
            decode_report r;
            {
              py::gil_scoped_release nogil;
              r = c.decode(ids, msg.map, o.map);
            }
            return py::make_tuple(o.result, r);
          },
          py::arg("ids"), py::arg("messages"), py::kw_only(), py::arg("out") = py::none(),
          "The master's sum from the messages of workers `ids` (d x len(ids)). Returns (out, decode_report).")
      .def("max_relative_error", &second::max_relative_error);
}

}  // namespace

void bind_quantize_dynamic(py::module_& m) {
  py::class_<one_bit_params> ob(m, "one_bit_params", "Parameters of a 1-bit quantizer.");
  ob.def(py::init([](Index length, std::uint64_t seed) { return one_bit_params{.length = length, .seed = seed}; }),
         py::arg("length"), py::arg("seed") = std::uint64_t{0})
      .def_readwrite("length", &one_bit_params::length, "w >= 1")
      .def_readwrite("seed", &one_bit_params::seed, "run seed");
  aggregate_protocol<one_bit_params>(ob, "one_bit_params", std::pair{"length", &one_bit_params::length},
                                     std::pair{"seed", &one_bit_params::seed});

  py::enum_<gradcode::gc_dl_method>(m, "gc_dl_method", "Which scheme a gc_dl object runs.")
      .value("one_bit", gradcode::gc_dl_method::one_bit, "1-bit GC-DL: Q(f_j) and ||f_j||")
      .value("sgc", gradcode::gc_dl_method::sgc, "SGC-DL: f_j itself")
      .value("ignore_stragglers", gradcode::gc_dl_method::ignore_stragglers, "1-bit with every d_i = 1");

  py::class_<gc_dl_params> gp(m, "gc_dl_params", "Parameters of a GC-DL scheme.");
  gp.def(py::init(
             [](gradcode::assignment placement, Index dimension, double p, gradcode::gc_dl_method method, std::uint64_t seed) {
               return gc_dl_params{.placement = std::move(placement),
                                   .dimension = dimension,
                                   .straggler_probability = p,
                                   .method = method,
                                   .seed = seed};
             }),
         py::arg("placement"), py::arg("dimension"), py::arg("straggler_probability") = 0.0, py::kw_only(),
         py::arg("method") = gradcode::gc_dl_method::one_bit, py::arg("seed") = std::uint64_t{0})
      .def_readwrite("placement", &gc_dl_params::placement, "S_j: nodes = workers, partitions = samples")
      .def_readwrite("dimension", &gc_dl_params::dimension, "w")
      .def_readwrite("straggler_probability", &gc_dl_params::straggler_probability, "p in [0, 1)")
      .def_readwrite("method", &gc_dl_params::method)
      .def_readwrite("seed", &gc_dl_params::seed);
  gp.def(py::pickle(
      [](const gc_dl_params& p) { return py::make_tuple(p.placement, p.dimension, p.straggler_probability, p.method, p.seed); },
      [](const py::tuple& t) {
        if (t.size() != 5) throw gradcode::invalid_input("cannot unpickle gc_dl_params: wrong state size");
        return gc_dl_params{.placement = t[0].cast<gradcode::assignment>(),
                            .dimension = t[1].cast<Index>(),
                            .straggler_probability = t[2].cast<double>(),
                            .method = t[3].cast<gradcode::gc_dl_method>(),
                            .seed = t[4].cast<std::uint64_t>()};
      }));

  using gradcode::placement_params;
  py::enum_<gradcode::placement_kind>(m, "placement_kind", "How place_samples places the samples.")
      .value("random", gradcode::placement_kind::random)
      .value("pairwise_balanced", gradcode::placement_kind::pairwise_balanced);
  py::class_<placement_params> pp(m, "placement_params", "What a sample placement is (quantize/placement.hpp).");
  pp.def(py::init([](Index workers, Index samples, Index replication, std::vector<Index> replications,
                     gradcode::placement_kind kind, std::uint64_t seed) {
           return placement_params{.workers = workers,
                                   .samples = samples,
                                   .replication = replication,
                                   .replications = std::move(replications),
                                   .kind = kind,
                                   .seed = seed};
         }),
         py::arg("workers"), py::arg("samples"), py::arg("replication") = Index{0}, py::kw_only(),
         py::arg("replications") = std::vector<Index>{}, py::arg("kind") = gradcode::placement_kind::random,
         py::arg("seed") = std::uint64_t{0})
      .def_readwrite("workers", &placement_params::workers, "n")
      .def_readwrite("samples", &placement_params::samples, "m")
      .def_readwrite("replication", &placement_params::replication, "d (homogeneous)")
      .def_readwrite("replications", &placement_params::replications, "d_i per sample (heterogeneous)")
      .def_readwrite("kind", &placement_params::kind)
      .def_readwrite("seed", &placement_params::seed);
  aggregate_protocol<placement_params>(
      pp, "placement_params", std::pair{"workers", &placement_params::workers}, std::pair{"samples", &placement_params::samples},
      std::pair{"replication", &placement_params::replication}, std::pair{"replications", &placement_params::replications},
      std::pair{"kind", &placement_params::kind}, std::pair{"seed", &placement_params::seed});
  m.def("place_samples", &gradcode::place_samples, py::arg("params"), "The placement S_j as an assignment (workers x samples).");
  py::class_<gradcode::pairwise_balance_report>(m, "pairwise_balance_report",
                                                "How far a placement is from pair-wise balance (eq. 39).")
      .def_readonly("pairs", &gradcode::pairwise_balance_report::pairs)
      .def_readonly("max_deviation", &gradcode::pairwise_balance_report::max_deviation)
      .def_readonly("mean_abs_deviation", &gradcode::pairwise_balance_report::mean_abs_deviation)
      .def_readonly("min_load", &gradcode::pairwise_balance_report::min_load)
      .def_readonly("max_load", &gradcode::pairwise_balance_report::max_load)
      .def("exact", &gradcode::pairwise_balance_report::exact);
  m.def("check_pairwise_balance", &gradcode::check_pairwise_balance, py::arg("placement"));
  m.def(
      "second_moment_bound",
      [](double C, Index workers, double p, Index w, const std::vector<Index>& replications) {
        return gradcode::second_moment_bound(C, workers, p, w, replications);
      },
      py::arg("C"), py::arg("workers"), py::arg("p"), py::arg("w"), py::arg("replications"),
      "li-skoglund's bound on E||g-hat||^2 (quantize/gc_dl.hpp).");

  bind_bits<double>(m);
  bind_bits<float>(m);
  bind_quantizer<double>(m);
  bind_quantizer<float>(m);
  bind_gc_dl<double>(m);
  bind_gc_dl<float>(m);
  bind_two_stage(m);
}

void bind_two_stage(py::module_& m) {
  using gradcode::two_stage_options;
  using gradcode::two_stage_params;
  py::class_<two_stage_params> tp(m, "two_stage_params", "What one epoch's two-stage code is (dynamic/two_stage.hpp).");
  tp.def(
        py::init([](std::vector<double> throughputs, Index partitions, std::vector<Index> stage_one_workers, std::uint64_t seed) {
          two_stage_params p{};
          p.throughputs = std::move(throughputs);
          p.partitions = partitions;
          p.stage_one_workers = std::move(stage_one_workers);
          p.seed = seed;
          return p;
        }),
        py::arg("throughputs"), py::arg("partitions"), py::arg("stage_one_workers"), py::kw_only(),
        py::arg("seed") = std::uint64_t{1})
      .def_readwrite("throughputs", &two_stage_params::throughputs, "W_m > 0 of all M workers")
      .def_readwrite("partitions", &two_stage_params::partitions, "K")
      .def_readwrite("stage_one_workers", &two_stage_params::stage_one_workers, "the M1 workers started in stage 1")
      .def_readwrite("seed", &two_stage_params::seed, "seed of the null-space construction of B2");
  aggregate_protocol<two_stage_params>(tp, "two_stage_params", std::pair{"throughputs", &two_stage_params::throughputs},
                                       std::pair{"partitions", &two_stage_params::partitions},
                                       std::pair{"stage_one_workers", &two_stage_params::stage_one_workers},
                                       std::pair{"seed", &two_stage_params::seed});
  py::class_<two_stage_options> to(m, "two_stage_options", "How the stage-2 code is decoded.");
  to.def(py::init([](const gradcode::decode_options& decode) { return two_stage_options{decode}; }), py::kw_only(),
         py::arg("decode") = gradcode::decode_options{})
      .def_readwrite("decode", &two_stage_options::decode);
  to.def(py::pickle([](const two_stage_options& o) { return py::make_tuple(o.decode); },
                    [](const py::tuple& t) {
                      if (t.size() != 1) throw gradcode::invalid_input("cannot unpickle two_stage_options: wrong state size");
                      return two_stage_options{t[0].cast<gradcode::decode_options>()};
                    }));
  bind_two_stage_scalar<double>(m);
  bind_two_stage_scalar<float>(m);
}

}  // namespace gradcode_python
