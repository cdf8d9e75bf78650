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

template <class E>
class unexpected {
public:
    template <class Err = E>
        requires(!std::is_same_v<std::remove_cvref_t<Err>, unexpected> &&
                 std::is_constructible_v<E, Err>)
    constexpr explicit unexpected(Err&& e) : error_(std::forward<Err>(e)) {}

    constexpr const E& error() const& noexcept { return error_; }
    constexpr E& error() & noexcept { return error_; }
    constexpr E&& error() && noexcept { return std::move(error_); }

    friend constexpr bool operator==(const unexpected& a, const unexpected& b) {
        return a.error_ == b.error_;
    }

private:
    E error_;
};
template <class E>
unexpected(E) -> unexpected<E>;

struct unexpect_t {
    explicit unexpect_t() = default;
};
inline constexpr unexpect_t unexpect{};

template <class E>
class bad_expected_access : public std::exception {
public:
    explicit bad_expected_access(E e) : error_(std::move(e)) {}
    const char* what() const noexcept override { return "bad expected access"; }
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
    using value_type = T;
    using error_type = E;
    using unexpected_type = unexpected<E>;
    template <class U>
    using rebind = expected<U, E>;

    constexpr expected()
        requires std::is_default_constructible_v<T>
        : val_(), has_(true) {}

    constexpr expected(const expected& o)
        requires std::is_copy_constructible_v<T> && std::is_copy_constructible_v<E>
        : has_(o.has_) {
        if (has_) std::construct_at(&val_, o.val_);
        else std::construct_at(&err_, o.err_);
    }
    constexpr expected(expected&& o) noexcept(std::is_nothrow_move_constructible_v<T> &&
                                              std::is_nothrow_move_constructible_v<E>)
        requires std::is_move_constructible_v<T> && std::is_move_constructible_v<E>
        : has_(o.has_) {
        if (has_) std::construct_at(&val_, std::move(o.val_));
        else std::construct_at(&err_, std::move(o.err_));
    }

    template <class U = T>
        requires(!std::is_same_v<std::remove_cvref_t<U>, expected> &&
                 !std::is_same_v<std::remove_cvref_t<U>, std::in_place_t> &&
                 !std::is_same_v<std::remove_cvref_t<U>, unexpect_t> &&
                 !detail::is_expected<std::remove_cvref_t<U>>::value &&
                 !std::is_same_v<std::remove_cvref_t<U>, unexpected<E>> &&
                 std::is_constructible_v<T, U>)
    constexpr explicit(!std::is_convertible_v<U, T>) expected(U&& v)
        : val_(std::forward<U>(v)), has_(true) {}

    template <class G>
        requires std::is_constructible_v<E, const G&>
    constexpr explicit(!std::is_convertible_v<const G&, E>) expected(const unexpected<G>& u)
        : err_(u.error()), has_(false) {}
    template <class G>
        requires std::is_constructible_v<E, G>
    constexpr explicit(!std::is_convertible_v<G, E>) expected(unexpected<G>&& u)
        : err_(std::move(u).error()), has_(false) {}

    template <class... Args>
    constexpr explicit expected(std::in_place_t, Args&&... args)
        : val_(std::forward<Args>(args)...), has_(true) {}
    template <class... Args>
    constexpr explicit expected(unexpect_t, Args&&... args)
        : err_(std::forward<Args>(args)...), has_(false) {}

    constexpr ~expected() { destroy(); }

    constexpr expected& operator=(const expected& o)
        requires std::is_copy_constructible_v<T> && std::is_copy_constructible_v<E>
    {
        if (this != &o) assign(o);
        return *this;
    }
    constexpr expected& operator=(expected&& o) noexcept(
        std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_constructible_v<E>)
        requires std::is_move_constructible_v<T> && std::is_move_constructible_v<E>
    {
        if (this != &o) assign(std::move(o));
        return *this;
    }
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
    template <class G>
    constexpr expected& operator=(unexpected<G> u) {
        destroy();
        std::construct_at(&err_, std::move(u).error());
        has_ = false;
        return *this;
    }

    template <class... Args>
    constexpr T& emplace(Args&&... args) {
        destroy();
        std::construct_at(&val_, std::forward<Args>(args)...);
        has_ = true;
        return val_;
    }

    constexpr explicit operator bool() const noexcept { return has_; }
    constexpr bool has_value() const noexcept { return has_; }

    constexpr const T* operator->() const noexcept { return &val_; }
    constexpr T* operator->() noexcept { return &val_; }
    constexpr const T& operator*() const& noexcept { return val_; }
    constexpr T& operator*() & noexcept { return val_; }
    constexpr T&& operator*() && noexcept { return std::move(val_); }

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
    constexpr const E& error() const& noexcept { return err_; }
    constexpr E& error() & noexcept { return err_; }
    constexpr E&& error() && noexcept { return std::move(err_); }

    template <class U>
    constexpr T value_or(U&& d) const& {
        return has_ ? val_ : static_cast<T>(std::forward<U>(d));
    }
    template <class U>
    constexpr T value_or(U&& d) && {
        return has_ ? std::move(val_) : static_cast<T>(std::forward<U>(d));
    }

    template <class F>
    constexpr auto and_then(F&& f) & { return and_then_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto and_then(F&& f) const& { return and_then_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto and_then(F&& f) && { return and_then_impl(std::move(*this), std::forward<F>(f)); }

    template <class F>
    constexpr auto or_else(F&& f) & { return or_else_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto or_else(F&& f) const& { return or_else_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto or_else(F&& f) && { return or_else_impl(std::move(*this), std::forward<F>(f)); }

    template <class F>
    constexpr auto transform(F&& f) & { return transform_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto transform(F&& f) const& { return transform_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto transform(F&& f) && { return transform_impl(std::move(*this), std::forward<F>(f)); }

    template <class F>
    constexpr auto transform_error(F&& f) & { return transform_error_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto transform_error(F&& f) const& { return transform_error_impl(*this, std::forward<F>(f)); }
    template <class F>
    constexpr auto transform_error(F&& f) && {
        return transform_error_impl(std::move(*this), std::forward<F>(f));
    }

    template <class T2, class E2>
        requires(!std::is_void_v<T2>)
    friend constexpr bool operator==(const expected& a, const expected<T2, E2>& b) {
        if (a.has_value() != b.has_value()) return false;
        return a.has_value() ? *a == *b : a.error() == b.error();
    }
    template <class T2>
        requires(!detail::is_expected<T2>::value)
    friend constexpr bool operator==(const expected& a, const T2& v) {
        return a.has_value() && *a == v;
    }
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
    using value_type = void;
    using error_type = E;
    using unexpected_type = unexpected<E>;

    constexpr expected() noexcept : dummy_(), has_(true) {}
    constexpr expected(const expected& o)
        requires std::is_copy_constructible_v<E>
        : dummy_(), has_(o.has_) {
        if (!has_) std::construct_at(&err_, o.err_);
    }
    constexpr expected(expected&& o) noexcept(std::is_nothrow_move_constructible_v<E>)
        : dummy_(), has_(o.has_) {
        if (!has_) std::construct_at(&err_, std::move(o.err_));
    }
    template <class G>
    constexpr explicit(!std::is_convertible_v<const G&, E>) expected(const unexpected<G>& u)
        : err_(u.error()), has_(false) {}
    template <class G>
    constexpr explicit(!std::is_convertible_v<G, E>) expected(unexpected<G>&& u)
        : err_(std::move(u).error()), has_(false) {}
    constexpr explicit expected(std::in_place_t) noexcept : dummy_(), has_(true) {}
    template <class... Args>
    constexpr explicit expected(unexpect_t, Args&&... args)
        : err_(std::forward<Args>(args)...), has_(false) {}

    constexpr ~expected() {
        if (!has_) std::destroy_at(&err_);
    }

    constexpr expected& operator=(const expected& o) {
        if (this != &o) assign(o);
        return *this;
    }
    constexpr expected& operator=(expected&& o) noexcept(std::is_nothrow_move_constructible_v<E>) {
        if (this != &o) assign(std::move(o));
        return *this;
    }
    template <class G>
    constexpr expected& operator=(unexpected<G> u) {
        if (!has_) std::destroy_at(&err_);
        std::construct_at(&err_, std::move(u).error());
        has_ = false;
        return *this;
    }
    constexpr void emplace() noexcept {
        if (!has_) std::destroy_at(&err_);
        has_ = true;
    }

    constexpr explicit operator bool() const noexcept { return has_; }
    constexpr bool has_value() const noexcept { return has_; }
    constexpr void operator*() const noexcept {}
    constexpr void value() const& {
        if (!has_) detail::throw_bad_expected_access(err_);
    }
    constexpr void value() && {
        if (!has_) detail::throw_bad_expected_access(err_);
    }
    constexpr const E& error() const& noexcept { return err_; }
    constexpr E& error() & noexcept { return err_; }
    constexpr E&& error() && noexcept { return std::move(err_); }

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
    template <class F>
    constexpr auto or_else(F&& f) const& {
        using R = std::remove_cvref_t<std::invoke_result_t<F, const E&>>;
        if (!has_) return std::invoke(std::forward<F>(f), err_);
        return R();
    }
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
    template <class F>
    constexpr auto transform_error(F&& f) const& {
        using G = std::remove_cv_t<std::invoke_result_t<F, const E&>>;
        if (has_) return expected<void, G>();
        return expected<void, G>(unexpect, std::invoke(std::forward<F>(f), err_));
    }

    template <class E2>
    friend constexpr bool operator==(const expected& a, const expected<void, E2>& b) {
        if (a.has_value() != b.has_value()) return false;
        return a.has_value() || a.error() == b.error();
    }
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
