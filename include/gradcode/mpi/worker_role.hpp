// SPDX-License-Identifier: MIT
// A worker's side of the tree_runner protocol (tree_runner.hpp): take the newest broadcast
// (skipping superseded rounds), compute the held partial gradients, encode, apply its injected
// fault and send the message to its edge; answer the start-up hello and the stop.
#pragma once

#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "gradcode/core/codec.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/core/worker_id.hpp"
#include "gradcode/mpi/errors.hpp"
#include "gradcode/mpi/injection.hpp"
#include "gradcode/mpi/rank_context.hpp"
#include "gradcode/mpi/round_types.hpp"
#include "gradcode/mpi/transport.hpp"
#include "gradcode/mpi/wire.hpp"

namespace gradcode::mpi::detail {

/// Fills `held` (d × task.partitions.size()) with the partial gradients g_k of the task's
/// partitions, column t = g_{partitions[t]} (tree_runner::worker_function).
template <class Scalar>
using worker_function = std::function<void(const worker_task<Scalar>&, Eigen::Ref<matrix<Scalar>>)>;

/// Serves rounds on worker rank `ctx.layout->worker()` until its edge's stop, calling `compute`
/// once per round it answers. Throws transport_error as tree_runner::serve documents.
template <gradcode::hierarchical_codec Codec>
serve_report serve_worker(rank_context<Codec>& ctx, const worker_function<typename Codec::scalar_type>& compute) {
  using scalar_type = typename Codec::scalar_type;
  const worker_id w = ctx.layout->worker();
  const std::string who = "worker (" + std::to_string(w.edge) + "," + std::to_string(w.worker) + ")";
  MPI_Comm down = ctx.layout->lower();
  const auto code_parts = ctx.code->worker_partitions(w);
  const std::vector<Index> parts(code_parts.begin(), code_parts.end());
  const Index C2 = ctx.code->worker_message_length(w.edge, ctx.d);
  matrix<scalar_type> held(ctx.d, static_cast<Index>(parts.size()));
  std::vector<scalar_type> payload;
  serve_report rep;
  std::string why;
  auto last_heard = clock::now();
  while (true) {
    std::optional<std::vector<std::byte>> newest;  // a worker that fell behind skips superseded rounds
    std::int64_t newest_round = -1;
    bool stop = false;
    incoming in;
    while (!stop && ctx.next(down, 0, in)) {
      const auto msg = ctx.parse(in, ctx.downlink_limit, why);
      if (!msg) {
        ++rep.malformed_messages;
        continue;
      }
      if (msg->kind == wire::message_kind::stop) {
        stop = true;
      } else if (msg->kind == wire::message_kind::hello) {
        ctx.out.send(ctx.control(wire::message_kind::hello, ctx.code_id), 0, control_tag, down);
      } else if (msg->kind == wire::message_kind::round_start && msg->round > newest_round) {
        newest_round = msg->round;
        newest = std::move(in.bytes);
      } else {
        ++rep.malformed_messages;
      }
    }
    if (stop) break;
    if (!newest) {
      ctx.out.progress();
      if (clock::now() - last_heard > ctx.options.idle_wait)
        throw transport_error(who + ": no round or stop from edge " + std::to_string(w.edge) + " for " +
                              std::to_string(ctx.options.idle_wait.count()) + " ms");
      std::this_thread::sleep_for(ctx.options.poll_interval);
      continue;
    }
    last_heard = clock::now();
    const wire::message task = wire::parse(*newest);  // parsed before; this view is into `newest`
    const auto r = static_cast<Index>(task.round);
    if (task.scalar_bytes != wire::scalar_code<scalar_type>()) {  // a master with another scalar type
      ++rep.malformed_messages;
      continue;
    }
    payload.resize(task.payload_elements());
    wire::read_payload<scalar_type>(task, std::span<scalar_type>(payload), static_cast<Index>(payload.size()), "the master");
    const node_fault f = ctx.faults.worker_fault(w, r, static_cast<double>(parts.size()));
    if (f.crashed) continue;  // never replies
    compute(worker_task<scalar_type>{r, w, payload, parts}, held);
    vector<scalar_type> message(C2);
    ctx.code->encode_held(w, held, message);
    if (f.delay_ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(f.delay_ms));
    if (f.corruption != 0) message.array() += static_cast<scalar_type>(f.corruption);
    const vector<scalar_type> sent = ctx.resized(message, f.length_change);
    wire::message res;
    res.kind = wire::message_kind::worker_result;
    res.scalar_bytes = wire::scalar_code<scalar_type>();
    res.round = r;
    res.payload = wire::payload_of(std::span<const scalar_type>(sent.data(), static_cast<std::size_t>(sent.size())));
    ctx.out.send(wire::serialise(res), 0, ctx.tags.tag(r), down);
    ++rep.rounds;
  }
  ctx.out.send(ctx.control(wire::message_kind::goodbye), 0, control_tag, down);
  ctx.finish(who);
  return rep;
}

}  // namespace gradcode::mpi::detail
