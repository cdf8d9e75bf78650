// kvmxx/concepts.hpp — what composes with what.
//
// - EventSource: anything that exposes an eventfd (kvmxx::EventFd, a VFIO
//   interrupt vector, your own type) can be routed into a guest with
//   `vm.irqfd(source, gsi)` or used as an ioeventfd.
// - MmioHandler: anything with `read(offset, bytes)` / `write(offset, bytes)`
//   can serve a range of guest-physical addresses (see examples/02).
// - GuestMemory: anything that turns a guest-physical range into host bytes.
#pragma once

#include "config.hpp"
#include "error.hpp"

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

KVMXX_BEGIN_NAMESPACE

/// A type that hands out an eventfd it owns: `source.event_fd()` returns the fd.
template <class T>
concept EventSource = requires(const T& source) {
    { source.event_fd() } -> std::convertible_to<int>;
};

/// A device model for a guest-physical window. `offset` is relative to the
/// window base; `data` is exactly the access width (1, 2, 4 or 8 bytes).
/// A read fills `data`; a write consumes it.
template <class T>
concept MmioHandler = requires(T& handler, std::uint64_t offset, std::span<std::uint8_t> out,
                               std::span<const std::uint8_t> in) {
    handler.read(offset, out);
    handler.write(offset, in);
};

/// Guest-physical → host bytes, bounds-checked.
template <class T>
concept GuestMemory = requires(const T& memory, std::uint64_t gpa, std::size_t size) {
    { memory.guest_span(gpa, size) } -> std::same_as<Result<std::span<std::uint8_t>>>;
};

KVMXX_END_NAMESPACE
