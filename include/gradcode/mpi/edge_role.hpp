// SPDX-License-Identifier: MIT
// An edge's side of the tree_runner protocol (tree_runner.hpp): forward the newest round to its
// workers, decode as soon as edge_wait of their messages arrived (or report a failure with the
// counts once edge_wait passed), send the result up, and relay the start-up and stop handshakes.
#pragma once

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gradcode/core/codec.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"
#include "gradcode/mpi/errors.hpp"
#include "gradcode/mpi/injection.hpp"
#include "gradcode/mpi/rank_context.hpp"
#include "gradcode/mpi/round_types.hpp"
#include "gradcode/mpi/transport.hpp"
#include "gradcode/mpi/wire.hpp"

namespace gradcode::mpi::detail {

/// Serves rounds on edge rank `ctx.layout->edge()` until the master's stop; then stops its
/// workers and waits for their goodbyes. Throws transport_error as tree_runner::serve documents.
template <gradcode::hierarchical_codec Codec>
serve_report serve_edge(rank_context<Codec>& ctx) {
  using scalar_type = typename Codec::scalar_type;
  const Index e = ctx.layout->edge(), m = ctx.code->workers(e), need = ctx.code->edge_wait(e);
  const Index C2 = ctx.code->worker_message_length(e, ctx.d), C1 = ctx.code->edge_message_length(ctx.d);
  MPI_Comm up = ctx.layout->upper(), down = ctx.layout->lower();
  const std::string who = "edge " + std::to_string(e);
  serve_report rep;
  struct round_state {
    bool active = false;
    Index r = 0;
    clock::time_point start{};
    matrix<scalar_type> buffers;   // C2 × m, column j = worker j's message
    std::vector<char> got;         // worker j's message of round r arrived
    std::vector<Index> order;      // arrival order
    std::vector<long long> bytes;  // their payload bytes
    std::vector<Index> rejected;   // workers whose message of round r was dropped as malformed
  } cur;
  cur.buffers.resize(C2, m);
  std::vector<char> verified(static_cast<std::size_t>(m), 0);  // 0: no hello yet, 1: same code, 2: another code
  Index late_since_report = 0;
  std::string why;

  auto reject = [&](Index j, const std::string&) {
    ++rep.malformed_messages;
    if (cur.active && std::find(cur.rejected.begin(), cur.rejected.end(), j) == cur.rejected.end()) cur.rejected.push_back(j);
  };
  auto on_worker_message = [&](const incoming& in) {
    const Index j = in.env.source - 1;  // lower rank j + 1 = worker j
    if (j < 0 || j >= m) {
      ++rep.malformed_messages;
      return;
    }
    const auto msg = ctx.parse(in, ctx.worker_limit, why);
    if (!msg) return reject(j, why);
    if (msg->kind == wire::message_kind::hello) {
      verified[static_cast<std::size_t>(j)] = msg->fingerprint == ctx.code_id ? 1 : 2;
      ctx.out.send(ctx.control(wire::message_kind::hello, msg->fingerprint, j), 0, control_tag, up);  // the master names the rank
      return;
    }
    if (msg->kind != wire::message_kind::worker_result) return reject(j, "unexpected kind");
    if (verified[static_cast<std::size_t>(j)] != 1) return reject(j, "no matching hello");
    // A message of the wrong length or scalar type is malformed whatever its round.
    if (msg->scalar_bytes != wire::scalar_code<scalar_type>() || static_cast<Index>(msg->payload_elements()) != C2)
      return reject(j, "wrong length");
    if (msg->round < cur.r || (msg->round == cur.r && !cur.active)) {
      ++rep.late_messages;
      ++late_since_report;
      return;
    }
    if (msg->round > cur.r || cur.got[static_cast<std::size_t>(j)]) return reject(j, "future round or duplicate");
    cur.got[static_cast<std::size_t>(j)] = 1;
    wire::read_payload<scalar_type>(*msg, std::span<scalar_type>(cur.buffers.col(j).data(), static_cast<std::size_t>(C2)), C2,
                                    "worker");
    cur.order.push_back(j);
    cur.bytes.push_back(static_cast<long long>(msg->payload.size()));
  };
  auto report = [&](wire::message res, std::span<const scalar_type> payload) {
    res.kind = wire::message_kind::edge_result;
    res.scalar_bytes = wire::scalar_code<scalar_type>();
    res.round = cur.r;
    res.received = static_cast<std::int64_t>(cur.order.size());
    res.needed = need;
    res.elapsed_us = static_cast<std::int64_t>(elapsed_ms(cur.start) * 1000);
    res.late = late_since_report;
    late_since_report = 0;
    res.rejected.assign(cur.rejected.begin(), cur.rejected.end());
    res.payload = wire::payload_of(payload);
    ctx.out.send(wire::serialise(res), 0, ctx.tags.tag(cur.r), up);
    cur.active = false;
  };

  auto last_heard = clock::now();
  bool stop = false;
  while (!stop) {
    bool busy = false;
    // From the master: take all that wait, keep the newest round (an edge that fell behind skips).
    std::shared_ptr<const std::vector<std::byte>> newest;
    Index newest_round = -1;
    incoming in;
    while (!stop && ctx.next(up, 0, in)) {
      busy = true;
      last_heard = clock::now();
      const auto msg = ctx.parse(in, ctx.downlink_limit, why);
      if (!msg) {
        ++rep.malformed_messages;
        continue;
      }
      switch (msg->kind) {
        case wire::message_kind::stop:
          stop = true;
          break;
        case wire::message_kind::hello: {  // answer, and ask the workers
          ctx.out.send(ctx.control(wire::message_kind::hello, ctx.code_id), 0, control_tag, up);
          const auto ask = std::make_shared<const std::vector<std::byte>>(std::move(in.bytes));
          for (Index j = 0; j < m; ++j) ctx.out.send(ask, static_cast<int>(j + 1), control_tag, down);
          break;
        }
        case wire::message_kind::round_start:
          if (msg->round > newest_round) {
            newest_round = msg->round;
            newest = std::make_shared<const std::vector<std::byte>>(std::move(in.bytes));
          }
          break;
        default:
          ++rep.malformed_messages;
          break;
      }
    }
    if (stop) break;
    if (newest) {
      if (cur.active) {
        cur.active = false;
        ++rep.abandoned;
      }
      cur.r = newest_round;
      cur.start = clock::now();
      cur.got.assign(static_cast<std::size_t>(m), 0);
      cur.order.clear();
      cur.bytes.clear();
      cur.rejected.clear();
      if (ctx.faults.edge_fault(e, cur.r).crashed) {
        ++rep.abandoned;  // a crashed edge neither asks its workers nor replies
      } else {
        for (Index j = 0; j < m; ++j) ctx.out.send(newest, static_cast<int>(j + 1), ctx.tags.tag(cur.r), down);
        cur.active = true;
      }
    }
    // From the workers.
    while (ctx.next(down, MPI_ANY_SOURCE, in)) {
      busy = true;
      on_worker_message(in);
    }
    if (cur.active && static_cast<Index>(cur.order.size()) >= need) {
      wire::message res;
      vector<scalar_type> out(C1);
      std::vector<Index> bad;
      double amplification = 1;
      try {
        matrix<scalar_type> messages(C2, static_cast<Index>(cur.order.size()));
        for (std::size_t t = 0; t < cur.order.size(); ++t) messages.col(static_cast<Index>(t)) = cur.buffers.col(cur.order[t]);
        decode_report decoded = ctx.code->edge_decode(e, cur.order, messages, out);
        bad = std::move(decoded.corrupted);
        amplification = decoded.amplification;
      } catch (const not_decodable&) {
        res.status = wire::edge_status::undecodable;
      } catch (const corrupted_result&) {
        res.status = wire::edge_status::corrupted;
      } catch (const invalid_input&) {
        res.status = wire::edge_status::malformed;
      }
      if (res.status == wire::edge_status::ok) {
        res.used.assign(cur.order.begin(), cur.order.end());
        res.used_bytes.assign(cur.bytes.begin(), cur.bytes.end());
        res.corrupted.assign(bad.begin(), bad.end());
        res.amplification = amplification;
        rep.received_bytes.insert(rep.received_bytes.end(), cur.bytes.begin(), cur.bytes.end());
        const node_fault f = ctx.faults.edge_fault(e, cur.r);
        if (f.delay_ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(f.delay_ms));
        if (f.corruption != 0) out.array() += static_cast<scalar_type>(f.corruption);
        const vector<scalar_type> sent = ctx.resized(out, f.length_change);
        report(std::move(res), std::span<const scalar_type>(sent.data(), static_cast<std::size_t>(sent.size())));
        ++rep.rounds;
      } else {
        report(std::move(res), {});
      }
    } else if (cur.active && clock::now() - cur.start >= ctx.options.edge_wait) {
      ++rep.abandoned;
      wire::message res;
      res.status = wire::edge_status::timed_out;
      report(std::move(res), {});
    }
    ctx.out.progress();
    if (!busy) {
      if (!cur.active && clock::now() - last_heard > ctx.options.idle_wait)
        throw transport_error(who + ": no round or stop from the master for " + std::to_string(ctx.options.idle_wait.count()) +
                              " ms");
      std::this_thread::sleep_for(ctx.options.poll_interval);
    }
  }
  // Stop travels down; goodbyes come up after each worker's last message.
  const auto bytes = ctx.control(wire::message_kind::stop);
  for (Index j = 0; j < m; ++j) ctx.out.send(bytes, static_cast<int>(j + 1), control_tag, down);
  std::vector<char> bye(static_cast<std::size_t>(m), 0);
  rep.late_messages += ctx.await_goodbyes(down, bye, ctx.worker_limit, who, "worker");
  ctx.out.send(ctx.control(wire::message_kind::goodbye), 0, control_tag, up);
  ctx.finish(who);
  return rep;
}

}  // namespace gradcode::mpi::detail
