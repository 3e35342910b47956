// SPDX-License-Identifier: MIT
// Command-line flags for the examples: one loop over argv with typed values and clear errors
// ("--iterations: 'abc' is not an integer"), --help printing the usage. Not part of the library.
//
//   examples::flags f(argc, argv, usage_text);
//   while (f.next())
//     if (f.is("--iterations")) o.iterations = f.integer();
//     else if (f.is("--seed")) o.seed = f.unsigned_integer();
//     else if (f.is("--smoke")) o.smoke = true;
//     else f.unknown();
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace examples {

class flags {
 public:
  /// `usage` is printed by --help (exit 0) and after an error (exit 2); "%s" in it is argv[0].
  flags(int argc, char** argv, std::string usage) : m_argc(argc), m_argv(argv), m_usage(std::move(usage)) {}

  /// Advances to the next flag; false at the end. --help / -h print the usage and exit.
  bool next() {
    if (++m_at >= m_argc) return false;
    m_flag = m_argv[m_at];
    if (m_flag == "--help" || m_flag == "-h") usage(0);
    return true;
  }
  bool is(const char* name) const { return m_flag == name; }
  const std::string& name() const { return m_flag; }

  /// The flag's value (the next argument); an error when there is none.
  std::string text() {
    if (m_at + 1 >= m_argc) fail("needs a value");
    return m_argv[++m_at];
  }
  long long integer() {
    const std::string v = text();
    char* end = nullptr;
    errno = 0;
    const long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end || errno) fail("'" + v + "' is not an integer");
    return x;
  }
  /// A value in [0, 2^64 − 1], e.g. a seed; a sign, a fraction or a larger value is an error.
  std::uint64_t unsigned_integer() {
    const std::string v = text();
    char* end = nullptr;
    errno = 0;
    // strtoull would accept "-1" (as 2^64 − 1) and leading blanks: only digits are taken.
    const bool digits = !v.empty() && v[0] >= '0' && v[0] <= '9';
    const unsigned long long x = digits ? std::strtoull(v.c_str(), &end, 10) : 0;
    if (!digits || *end || errno) fail("'" + v + "' is not an unsigned integer in [0, 18446744073709551615]");
    return static_cast<std::uint64_t>(x);
  }
  double number() {
    const std::string v = text();
    char* end = nullptr;
    errno = 0;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end || errno) fail("'" + v + "' is not a number");
    return x;
  }
  /// A comma-separated list of integers, e.g. "3,3,3".
  std::vector<long long> integers() {
    const std::string v = text();
    std::vector<long long> out;
    for (std::size_t at = 0; at <= v.size();) {
      const std::size_t comma = std::min(v.find(',', at), v.size());
      const std::string item = v.substr(at, comma - at);
      char* end = nullptr;
      errno = 0;
      const long long x = std::strtoll(item.c_str(), &end, 10);
      if (item.empty() || *end || errno) fail("'" + v + "' is not a comma-separated list of integers");
      out.push_back(x);
      at = comma + 1;
    }
    return out;
  }
  /// A comma-separated list of words, e.g. "hgc,allreduce".
  std::vector<std::string> words() {
    const std::string v = text();
    std::vector<std::string> out;
    for (std::size_t at = 0; at <= v.size();) {
      const std::size_t comma = std::min(v.find(',', at), v.size());
      out.push_back(v.substr(at, comma - at));
      at = comma + 1;
    }
    return out;
  }

  [[noreturn]] void unknown() { fail("is not a flag of this program"); }
  [[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "%s: %s %s\n", m_argv[0], m_flag.c_str(), why.c_str());
    usage(2);
  }
  [[noreturn]] void usage(int code) const {
    std::fprintf(code ? stderr : stdout, m_usage.c_str(), m_argv[0]);
    std::exit(code);
  }

 private:
  int m_argc;
  char** m_argv;
  std::string m_usage;
  int m_at = 0;
  std::string m_flag;
};

}  // namespace examples
