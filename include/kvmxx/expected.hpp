// kvmxx/expected.hpp — `kvmxx::expected`, `kvmxx::unexpected`, `kvmxx::unexpect`.
//
// These are aliases of the std:: names when KVMXX_USE_STD_EXPECTED is 1, and a
// bundled implementation of the C++23 interface (including the monadic members
// and_then / or_else / transform / transform_error) otherwise. GCC 12's
// std::expected lacks the monadic members, so C++20 and GCC 12 builds use the
// bundled one; see config.hpp for why the choice also names the ABI namespace.
//
// The bundled `value()` throws `bad_expected_access` like the standard one when
// exceptions are enabled; kvmxx itself never calls `value()` on an error.
#pragma once

#include "config.hpp"

#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <utility>

#if KVMXX_USE_STD_EXPECTED
#  include <expected>
#endif

KVMXX_BEGIN_NAMESPACE

#if KVMXX_USE_STD_EXPECTED

template <class T, class E>
using expected = std::expected<T, E>;
template <class E>
using unexpected = std::unexpected<E>;
using unexpect_t = std::unexpect_t;
inline constexpr unexpect_t unexpect = std::unexpect;
template <class E>
using bad_expected_access = std::bad_expected_access<E>;

#else

/// An error on its way into an `expected`, as std::unexpected: `return unexpected(err);`
/// makes the failing side unambiguous even when T and E convert to each other.
template <class E>
class unexpected {
public:
    /// Wraps `e`, as std::unexpected's constructor.
    template <class Err = E>
        requires(!std::is_same_v<std::remove_cvref_t<Err>, unexpected> &&
                 std::is_constructible_v<E, Err>)
    constexpr explicit unexpected(Err&& e) : error_(std::forward<Err>(e)) {}

    /// The wrapped error, as std::unexpected's error().
    /// @{
    constexpr const E& error() const& noexcept { return error_; }
    constexpr E& error() & noexcept { return error_; }
    constexpr E&& error() && noexcept { return std::move(error_); }
    /// @}

    /// Equal when the wrapped errors are.
    friend constexpr bool operator==(const unexpected& a, const unexpected& b) {
        return a.error_ == b.error_;
    }

private:
    E error_;
};
/// `unexpected(e)` deduces unexpected<E>, as std::unexpected's deduction guide.
template <class E>
unexpected(E) -> unexpected<E>;

/// Tag type that selects the error-constructing constructors, as std::unexpect_t.
struct unexpect_t {
    explicit unexpect_t() = default;
};
inline constexpr unexpect_t unexpect{};  ///< The tag value, as std::unexpect.

/// Thrown by `value()` on an error, as std::bad_expected_access; it carries the error.
template <class E>
class bad_expected_access : public std::exception {
public:
    /// Keeps `e` for the catcher.
    explicit bad_expected_access(E e) : error_(std::move(e)) {}
    /// A fixed "bad expected access"; the detail is in error().
    const char* what() const noexcept override { return "bad expected access"; }
    /// The error `value()` found.
    const E& error() const& noexcept { return error_; }

private:
    E error_;
};

namespace detail {
template <class E>
[[noreturn]] void throw_bad_expected_access(const E& e) {
#  if defined(__cpp_exceptions)
    throw bad_expected_access<E>(e);
#  else
    (void)e;
    std::terminate();  // same as the standard library under -fno-exceptions
#  endif
}
}  // namespace detail

template <class T, class E>
class expected;

namespace detail {
template <class X>
struct is_expected : std::false_type {};
template <class T, class E>
struct is_expected<expected<T, E>> : std::true_type {};
}  // namespace detail

/// The value-or-error sum type. Storage is a union; `has_` says which member lives.
template <class T, class E>
class [[nodiscard]] expected {
public:
    using value_type = T;                  ///< The success type T.
    using error_type = E;                  ///< The error type E.
    using unexpected_type = unexpected<E>; ///< What carries an E into an expected.
    /// The same error type with another value type, as std::expected's rebind.
    template <class U>
    using rebind = expected<U, E>;

    /// A value-initialised T.
    constexpr expected()
        requires std::is_default_constructible_v<T>
        : val_(), has_(true) {}

    /// Copies whichever of value or error `o` holds.
    constexpr expected(const expected& o)
        requires std::is_copy_constructible_v<T> && std::is_copy_constructible_v<E>
        : has_(o.has_) {
        if (has_) std::construct_at(&val_, o.val_);
        else std::construct_at(&err_, o.err_);
    }
    /// Moves whichever of value or error `o` holds.
    constexpr expected(expected&& o) noexcept(std::is_nothrow_move_constructible_v<T> &&
                                              std::is_nothrow_move_constructible_v<E>)
        requires std::is_move_constructible_v<T> && std::is_move_constructible_v<E>
        : has_(o.has_) {
        if (has_) std::construct_at(&val_, std::move(o.val_));
        else std::construct_at(&err_, std::move(o.err_));
    }

    /// A value built from `v`, as std::expected's converting constructor.
    template <class U = T>
        requires(!std::is_same_v<std::remove_cvref_t<U>, expected> &&
                 !std::is_same_v<std::remove_cvref_t<U>, std::in_place_t> &&
                 !std::is_same_v<std::remove_cvref_t<U>, unexpect_t> &&
                 !detail::is_expected<std::remove_cvref_t<U>>::value &&
                 !std::is_same_v<std::remove_cvref_t<U>, unexpected<E>> &&
                 std::is_constructible_v<T, U>)
    constexpr explicit(!std::is_convertible_v<U, T>) expected(U&& v)
        : val_(std::forward<U>(v)), has_(true) {}

    /// An error taken from `u`, as std::expected's constructor from unexpected.
    /// @{
    template <class G>
        requires std::is_constructible_v<E, const G&>
    constexpr explicit(!std::is_convertible_v<const G&, E>) expected(const unexpected<G>& u)
        : err_(u.error()), has_(false) {}
    template <class G>
        requires std::is_constructible_v<E, G>
    constexpr explicit(!std::is_convertible_v<G, E>) expected(unexpected<G>&& u)
        : err_(std::move(u).error()), has_(false) {}
    /// @}

    /// A value built in place from `args`.
    template <class... Args>
    constexpr explicit expected(std::in_place_t, Args&&... args)
        : val_(std::forward<Args>(args)...), has_(true) {}
    /// An error built in place from `args`.
    template <class... Args>
    constexpr explicit expected(unexpect_t, Args&&... args)
        : err_(std::forward<Args>(args)...), has_(false) {}

    constexpr ~expected() { destroy(); }

    /// Copies `o`'s value or error over this one.
    constexpr expected& operator=(const expected& o)
        requires std::is_copy_constructible_v<T> && std::is_copy_constructible_v<E>
    {
        if (this != &o) assign(o);
        return *this;
    }
    /// Moves `o`'s value or error over this one.
    constexpr expected& operator=(expected&& o) noexcept(
        std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_constructible_v<E>)
        requires std::is_move_constructible_v<T> && std::is_move_constructible_v<E>
    {
        if (this != &o) assign(std::move(o));
        return *this;
    }
    /// Holds a value built from `v` from now on.
    template <class U = T>
        requires(!std::is_same_v<std::remove_cvref_t<U>, expected> &&
                 !detail::is_expected<std::remove_cvref_t<U>>::value &&
                 std::is_constructible_v<T, U>)
    constexpr expected& operator=(U&& v) {
        destroy();
        std::construct_at(&val_, std::forward<U>(v));
        has_ = true;
        return *this;
    }
    /// Holds `u`'s error from now on.
    template <class G>
    constexpr expected& operator=(unexpected<G> u) {
        destroy();
        std::construct_at(&err_, std::move(u).error());
        has_ = false;
        return *this;
    }

    /// Replaces the content with a value built from `args`; returns it.
    template <class... Args>
    constexpr T& emplace(Args&&... args) {
        destroy();
        std::construct_at(&val_, std::forward<Args>(args)...);
        has_ = true;
        return val_;
    }

    /// True when a value is held, as std::expected's operator bool.
    constexpr explicit operator bool() const noexcept { return has_; }
    /// True when a value is held.
    constexpr bool has_value() const noexcept { return has_; }

    /// The value's members; unchecked, so only after has_value().
    /// @{
    constexpr const T* operator->() const noexcept { return &val_; }
    constexpr T* operator->() noexcept { return &val_; }
    /// @}
    /// The value; unchecked, so only after has_value().
    /// @{
    constexpr const T& operator*() const& noexcept { return val_; }
    constexpr T& operator*() & noexcept { return val_; }
    constexpr T&& operator*() && noexcept { return std::move(val_); }
    /// @}

    /// The value, or bad_expected_access thrown (std::terminate without exceptions).
    /// @{
    constexpr const T& value() const& {
        if (!has_) detail::throw_bad_expected_access(err_);
        return val_;
    }
    constexpr T& value() & {
        if (!has_) detail::throw_bad_expected_access(err_);
        return val_;
    }
    constexpr T&& value() && {
        if (!has_) detail::throw_bad_expected_access(err_);
        return std::move(val_);
    }
    /// @}
    /// The error; unchecked, so only when has_value() is false.
    /// @{
    constexpr const E& error() const& noexcept { return err_; }
    constexpr E& error() & noexcept { return err_; }
    constexpr E&& error() && noexcept { return std::move(err_); }
    /// @}

    /// The value, or `d` converted to T on an error, as std::expected's value_or.
    /// @{
    template <class U>
    constexpr T value_or(U&& d) const& {
        return has_ ? val_ : static_cast<T>(std::forward<U>(d));
    }
    template <class U>
    constexpr T value_or(U&& d) && {
        return has_ ? std::move(val_) : static_cast<T>(std::forward<U>(d));
    }
    /// @}

    /// `f(value)` (itself an expected with error type E), or the error passed on,
    /// as std::expected's and_then.
    /// @{
    template <class F>
    constexpr auto and_then(F&& f) & { return and_then_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto and_then(F&& f) const& { return and_then_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto and_then(F&& f) && { return and_then_impl(std::move(*this), std::forward<F>(f)); }
    /// @}

    /// The value passed on, or `f(error)` (an expected with value type T), as
    /// std::expected's or_else.
    /// @{
    template <class F>
    constexpr auto or_else(F&& f) & { return or_else_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto or_else(F&& f) const& { return or_else_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto or_else(F&& f) && { return or_else_impl(std::move(*this), std::forward<F>(f)); }
    /// @}

    /// `f(value)` wrapped as the new value, or the error passed on, as
    /// std::expected's transform.
    /// @{
    template <class F>
    constexpr auto transform(F&& f) & { return transform_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto transform(F&& f) const& { return transform_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto transform(F&& f) && { return transform_impl(std::move(*this), std::forward<F>(f)); }
    /// @}

    /// The value passed on, or `f(error)` as the new error, as std::expected's
    /// transform_error.
    /// @{
    template <class F>
    constexpr auto transform_error(F&& f) & { return transform_error_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto transform_error(F&& f) const& { return transform_error_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto transform_error(F&& f) && {
        return transform_error_impl(std::move(*this), std::forward<F>(f));
    }
    /// @}

    /// Equal when both hold equal values or both hold equal errors.
    template <class T2, class E2>
        requires(!std::is_void_v<T2>)
    friend constexpr bool operator==(const expected& a, const expected<T2, E2>& b) {
        if (a.has_value() != b.has_value()) return false;
        return a.has_value() ? *a == *b : a.error() == b.error();
    }
    /// Equal when `a` holds a value equal to `v`.
    template <class T2>
        requires(!detail::is_expected<T2>::value)
    friend constexpr bool operator==(const expected& a, const T2& v) {
        return a.has_value() && *a == v;
    }
    /// Equal when `a` holds an error equal to `u`'s.
    template <class E2>
    friend constexpr bool operator==(const expected& a, const unexpected<E2>& u) {
        return !a.has_value() && a.error() == u.error();
    }

private:
    constexpr void destroy() {
        if (has_) std::destroy_at(&val_);
        else std::destroy_at(&err_);
    }
    template <class Other>
    constexpr void assign(Other&& o) {
        destroy();
        has_ = o.has_;
        if (has_) std::construct_at(&val_, std::forward<Other>(o).val_);
        else std::construct_at(&err_, std::forward<Other>(o).err_);
    }

    template <class Self, class F>
    static constexpr auto and_then_impl(Self&& self, F&& f) {
        using R = std::remove_cvref_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).val_)>>;
        if (self.has_) return std::invoke(std::forward<F>(f), std::forward<Self>(self).val_);
        return R(unexpect, std::forward<Self>(self).err_);
    }
    template <class Self, class F>
    static constexpr auto or_else_impl(Self&& self, F&& f) {
        using R = std::remove_cvref_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).err_)>>;
        if (!self.has_) return std::invoke(std::forward<F>(f), std::forward<Self>(self).err_);
        return R(std::in_place, std::forward<Self>(self).val_);
    }
    template <class Self, class F>
    static constexpr auto transform_impl(Self&& self, F&& f) {
        using U = std::remove_cv_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).val_)>>;
        if (!self.has_) return expected<U, E>(unexpect, std::forward<Self>(self).err_);
        if constexpr (std::is_void_v<U>) {
            std::invoke(std::forward<F>(f), std::forward<Self>(self).val_);
            return expected<U, E>();
        } else {
            return expected<U, E>(std::in_place,
                                  std::invoke(std::forward<F>(f), std::forward<Self>(self).val_));
        }
    }
    template <class Self, class F>
    static constexpr auto transform_error_impl(Self&& self, F&& f) {
        using G = std::remove_cv_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).err_)>>;
        if (self.has_) return expected<T, G>(std::in_place, std::forward<Self>(self).val_);
        return expected<T, G>(unexpect, std::invoke(std::forward<F>(f), std::forward<Self>(self).err_));
    }

    union {
        T val_;
        E err_;
    };
    bool has_;

    template <class, class>
    friend class expected;
};

/// `expected<void, E>`: success carries nothing.
template <class E>
class [[nodiscard]] expected<void, E> {
public:
    using value_type = void;               ///< No value: success is all there is.
    using error_type = E;                  ///< The error type E.
    using unexpected_type = unexpected<E>; ///< What carries an E into an expected.

    /// Success.
    constexpr expected() noexcept : dummy_(), has_(true) {}
    /// Copies `o`'s success or error.
    constexpr expected(const expected& o)
        requires std::is_copy_constructible_v<E>
        : dummy_(), has_(o.has_) {
        if (!has_) std::construct_at(&err_, o.err_);
    }
    /// Moves `o`'s success or error.
    constexpr expected(expected&& o) noexcept(std::is_nothrow_move_constructible_v<E>)
        : dummy_(), has_(o.has_) {
        if (!has_) std::construct_at(&err_, std::move(o.err_));
    }
    /// An error taken from `u`, as std::expected's constructor from unexpected.
    /// @{
    template <class G>
    constexpr explicit(!std::is_convertible_v<const G&, E>) expected(const unexpected<G>& u)
        : err_(u.error()), has_(false) {}
    template <class G>
    constexpr explicit(!std::is_convertible_v<G, E>) expected(unexpected<G>&& u)
        : err_(std::move(u).error()), has_(false) {}
    /// @}
    /// Success, as std::expected<void, E>'s in-place constructor.
    constexpr explicit expected(std::in_place_t) noexcept : dummy_(), has_(true) {}
    /// An error built in place from `args`.
    template <class... Args>
    constexpr explicit expected(unexpect_t, Args&&... args)
        : err_(std::forward<Args>(args)...), has_(false) {}

    constexpr ~expected() {
        if (!has_) std::destroy_at(&err_);
    }

    /// Copies `o`'s success or error over this one.
    constexpr expected& operator=(const expected& o) {
        if (this != &o) assign(o);
        return *this;
    }
    /// Moves `o`'s success or error over this one.
    constexpr expected& operator=(expected&& o) noexcept(std::is_nothrow_move_constructible_v<E>) {
        if (this != &o) assign(std::move(o));
        return *this;
    }
    /// Holds `u`'s error from now on.
    template <class G>
    constexpr expected& operator=(unexpected<G> u) {
        if (!has_) std::destroy_at(&err_);
        std::construct_at(&err_, std::move(u).error());
        has_ = false;
        return *this;
    }
    /// Success from now on, dropping any error.
    constexpr void emplace() noexcept {
        if (!has_) std::destroy_at(&err_);
        has_ = true;
    }

    /// True on success, as std::expected's operator bool.
    constexpr explicit operator bool() const noexcept { return has_; }
    /// True on success.
    constexpr bool has_value() const noexcept { return has_; }
    /// Nothing, as std::expected<void, E>'s operator*; unchecked.
    constexpr void operator*() const noexcept {}
    /// Nothing on success, else bad_expected_access thrown (std::terminate
    /// without exceptions).
    /// @{
    constexpr void value() const& {
        if (!has_) detail::throw_bad_expected_access(err_);
    }
    constexpr void value() && {
        if (!has_) detail::throw_bad_expected_access(err_);
    }
    /// @}
    /// The error; unchecked, so only when has_value() is false.
    /// @{
    constexpr const E& error() const& noexcept { return err_; }
    constexpr E& error() & noexcept { return err_; }
    constexpr E&& error() && noexcept { return std::move(err_); }
    /// @}

    /// `f()` (itself an expected with error type E) on success, or the error
    /// passed on, as std::expected's and_then.
    /// @{
    template <class F>
    constexpr auto and_then(F&& f) const& {
        using R = std::remove_cvref_t<std::invoke_result_t<F>>;
        if (has_) return std::invoke(std::forward<F>(f));
        return R(unexpect, err_);
    }
    template <class F>
    constexpr auto and_then(F&& f) && {
        using R = std::remove_cvref_t<std::invoke_result_t<F>>;
        if (has_) return std::invoke(std::forward<F>(f));
        return R(unexpect, std::move(err_));
    }
    /// @}
    /// Success passed on, or `f(error)`, as std::expected's or_else.
    template <class F>
    constexpr auto or_else(F&& f) const& {
        using R = std::remove_cvref_t<std::invoke_result_t<F, const E&>>;
        if (!has_) return std::invoke(std::forward<F>(f), err_);
        return R();
    }
    /// `f()` as the new value on success, or the error passed on, as
    /// std::expected's transform.
    template <class F>
    constexpr auto transform(F&& f) const& {
        using U = std::remove_cv_t<std::invoke_result_t<F>>;
        if (!has_) return expected<U, E>(unexpect, err_);
        if constexpr (std::is_void_v<U>) {
            std::invoke(std::forward<F>(f));
            return expected<U, E>();
        } else {
            return expected<U, E>(std::in_place, std::invoke(std::forward<F>(f)));
        }
    }
    /// Success passed on, or `f(error)` as the new error, as std::expected's
    /// transform_error.
    template <class F>
    constexpr auto transform_error(F&& f) const& {
        using G = std::remove_cv_t<std::invoke_result_t<F, const E&>>;
        if (has_) return expected<void, G>();
        return expected<void, G>(unexpect, std::invoke(std::forward<F>(f), err_));
    }

    /// Equal when both succeeded or both hold equal errors.
    template <class E2>
    friend constexpr bool operator==(const expected& a, const expected<void, E2>& b) {
        if (a.has_value() != b.has_value()) return false;
        return a.has_value() || a.error() == b.error();
    }
    /// Equal when `a` holds an error equal to `u`'s.
    template <class E2>
    friend constexpr bool operator==(const expected& a, const unexpected<E2>& u) {
        return !a.has_value() && a.error() == u.error();
    }

private:
    template <class Other>
    constexpr void assign(Other&& o) {
        if (!has_) std::destroy_at(&err_);
        has_ = o.has_;
        if (!has_) std::construct_at(&err_, std::forward<Other>(o).err_);
    }

    struct empty {};
    union {
        empty dummy_;
        E err_;
    };
    bool has_;
};

#endif  // KVMXX_USE_STD_EXPECTED

KVMXX_END_NAMESPACE
