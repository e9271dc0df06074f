// StaticFiles: serves read-only assets (SDK bundle, demo page) from fixed
// subdirectories of a web root, e.g. "/sdk/" -> <root>/sdk/. Request paths are
// untrusted: decoded once and strictly, and anything odd (traversal, encoded
// separators, dot files, symlinks leading out of the directory, types not on
// the allowlist, files over kMaxFileBytes) is a plain 404. Holds only the root
// path and reads the file system per request; const, so thread-safe.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_types.h"

namespace aegis::net {

class StaticFiles {
 public:
  static constexpr size_t kMaxFileBytes = size_t{16} << 20;

  explicit StaticFiles(std::filesystem::path root);

  // Serves req.path if it lies under `url_prefix` (leading and trailing '/',
  // e.g. "/sdk/"), from <root>/<subdir> (trusted, e.g. "sdk"). std::nullopt
  // only when the path is not under the prefix (so the caller routes it
  // elsewhere); otherwise 200, 301 (the prefix without its slash), 404 or 405.
  // A path ending in '/' serves that directory's index.html. HEAD answers
  // like GET without the body (Content-Length kept; see HttpsServer).
  std::optional<HttpResponse> Serve(const HttpRequest& req, std::string_view url_prefix,
                                    std::string_view subdir) const;

 private:
  std::filesystem::path root_;
};

// The Content-Type served for a file name, by extension (allowlist, ASCII
// case-insensitive); empty when files of that name are never served.
std::string_view StaticContentType(std::string_view file_name);

// Decodes the part of a URL path after the mapped prefix into a relative file
// path: each %XX exactly once; std::nullopt for a malformed escape, an encoded
// or literal backslash, an encoded '/', '%' in the result (double encoding),
// NUL or other control bytes, an empty, "." or ".." segment, or a segment
// starting with '.' (dot files).
std::optional<std::string> DecodeStaticPath(std::string_view encoded);

}  // namespace aegis::net
