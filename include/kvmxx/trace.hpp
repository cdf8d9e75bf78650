// kvmxx/trace.hpp — the teaching trace: one decoded line per ioctl.
//
// Set KVMXX_TRACE=1 in the environment, or call `kvmxx::trace::enable()`, and
// every ioctl kvmxx issues prints a line such as
//
//     kvmxx: KVM_SET_USER_MEMORY_REGION slot=0 gpa=0x40000000 size=0x10000000 flags=0 -> 0
//     kvmxx: KVM_CREATE_VCPU vcpu_id=0 -> fd 5
//     kvmxx: KVM_IRQFD fd=7 gsi=5 flags=RESAMPLE resamplefd=8 -> 0
//
// Off (the default), the cost is one predictable branch on a relaxed atomic
// load: the argument text is only built when the line will be printed.
// `set_sink` redirects lines (to a log, a test buffer, the VMM's console).
#pragma once

#include "config.hpp"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

KVMXX_BEGIN_NAMESPACE

/// The teaching trace: one decoded line per ioctl when on (KVMXX_TRACE=1).
namespace trace {

/// Receives each finished line (without newline).
using Sink = void (*)(std::string_view line, void* context);

namespace detail {
inline bool enabled_from_environment() noexcept {
    const char* v = std::getenv("KVMXX_TRACE");
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}
inline void stderr_sink(std::string_view line, void*) {
    std::string out = "kvmxx: ";
    out += line;
    out += '\n';
    // One write per line so lines from several vCPU threads do not interleave.
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, out.data(), out.size());
}
inline std::atomic<bool> on{enabled_from_environment()};
inline std::atomic<Sink> sink{&stderr_sink};
inline std::atomic<void*> sink_context{nullptr};
}  // namespace detail

/// Is the trace on? (The one branch every wrapper pays.)
inline bool enabled() noexcept { return detail::on.load(std::memory_order_relaxed); }
/// Turns the trace on (or off with `false`), whatever KVMXX_TRACE said.
inline void enable(bool on = true) noexcept { detail::on.store(on, std::memory_order_relaxed); }
inline void disable() noexcept { enable(false); }  ///< Turns the trace off.

/// Sends lines to `sink(line, context)`; nullptr restores the stderr sink.
inline void set_sink(Sink sink, void* context = nullptr) noexcept {
    detail::sink_context.store(context, std::memory_order_relaxed);
    detail::sink.store(sink ? sink : &detail::stderr_sink, std::memory_order_release);
}

/// Emits one line to the current sink (only call when enabled()).
inline void emit(std::string_view line) {
    detail::sink.load(std::memory_order_acquire)(line, detail::sink_context.load(std::memory_order_relaxed));
}

/// Small builder for "key=value" argument text, shared by trace lines and error details.
class Args {
public:
    Args& dec(const char* key, std::uint64_t v) { return put(key, v, 10); }  ///< Appends "key=v" in decimal.
    /// Appends "key=v" in signed decimal (an fd of -1 reads as -1).
    Args& sdec(const char* key, std::int64_t v) {
        if (v < 0) {
            sep(key);
            text_ += '-';
            num(static_cast<std::uint64_t>(-(v + 1)) + 1, 10);
            return *this;
        }
        return dec(key, static_cast<std::uint64_t>(v));
    }
    /// Appends "key=0x..." in hex (addresses, flags).
    Args& hex(const char* key, std::uint64_t v) {
        sep(key);
        text_ += "0x";
        num(v, 16);
        return *this;
    }
    /// Appends "key=v" with `v` as it is.
    Args& str(const char* key, std::string_view v) {
        sep(key);
        text_ += v;
        return *this;
    }
    /// Appends text as-is (e.g. a decoded flag list already formatted).
    Args& raw(std::string_view v) {
        if (!text_.empty()) text_ += ' ';
        text_ += v;
        return *this;
    }
    std::string take() { return std::move(text_); }     ///< The text, moved out (the builder is spent).
    const std::string& text() const { return text_; }  ///< The text so far.

private:
    Args& put(const char* key, std::uint64_t v, int base) {
        sep(key);
        num(v, base);
        return *this;
    }
    void sep(const char* key) {
        if (!text_.empty()) text_ += ' ';
        text_ += key;
        text_ += '=';
    }
    void num(std::uint64_t v, int base) {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v, base);
        // (pointer, length), not an iterator pair: GCC 12 -O2 -Wrestrict misfires on the latter.
        text_.append(buf, static_cast<std::size_t>(r.ptr - buf));
    }
    std::string text_;
};

/// Formats a hex number ("0x1f") — for callers that build text by hand.
inline std::string hex(std::uint64_t v) {
    return Args().hex("", v).take().substr(1);
}

}  // namespace trace

KVMXX_END_NAMESPACE
