// Fmt.cpp: fmt's out-of-line functions, compiled once into the runtime.
//
// Programs built by `mtlc build` link the runtime statically and need no
// libfmt at run time, so the runtime carries the few functions that fmt's
// headers declare but do not define (formatting to a string or a stream, the
// format-string error, the locale's separators). The runtime's other files
// include fmt as usual; compiling fmt header-only in each of them instead cost
// about 5 s of compile time per file (docs/testing.md, "Build time").
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl<char>(locale_ref) -> char;
} // namespace detail
FMT_END_NAMESPACE
