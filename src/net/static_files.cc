#include "net/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>
#include <utility>

#include "core/strings.h"

namespace aegis::net {
namespace {

constexpr const char* kIndexFile = "index.html";
// Only same-origin code; the SDK talks to the signalling WebSocket (wss:).
constexpr const char* kHtmlCsp =
    "default-src 'self'; connect-src 'self' wss:; img-src 'self' data: blob:; "
    "media-src 'self' blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

struct ContentType {
  std::string_view suffix;
  std::string_view type;
};

// Longest suffixes first: "x.d.ts" must match ".d.ts", not ".ts".
constexpr std::array<ContentType, 12> kContentTypes = {{
    {".d.ts", "application/typescript"},
    {".html", "text/html; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".ts", "application/typescript"},
}};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

HttpResponse PlainResponse(int status, std::string body) {
  HttpResponse res;
  res.status = status;
  res.headers["content-type"] = "text/plain; charset=utf-8";
  res.headers["cache-control"] = "no-cache";
  res.body = std::move(body);
  return res;
}

HttpResponse NotFound() { return PlainResponse(404, "Not Found\n"); }

// True when `path` is `dir` or below it (both canonical).
bool IsWithin(const std::filesystem::path& path, const std::filesystem::path& dir) {
  auto [dir_end, unused] = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
  return dir_end == dir.end();
}

// Reads a regular file of at most kMaxFileBytes (or just sizes it when
// `body` is null). The path is canonical, so O_NOFOLLOW only refuses a
// symlink swapped in since canonical() looked.
bool ReadRegularFile(const std::filesystem::path& path, size_t* size, std::string* body) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    return false;
  }
  bool ok = false;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
      static_cast<uint64_t>(st.st_size) <= StaticFiles::kMaxFileBytes) {
    *size = static_cast<size_t>(st.st_size);
    ok = true;
    if (body != nullptr) {
      body->resize(*size);
      size_t done = 0;
      while (done < *size) {
        const ssize_t n = ::read(fd, body->data() + done, *size - done);
        if (n < 0 && errno == EINTR) {
          continue;
        }
        if (n <= 0) {
          break;  // shrank (or failed) meanwhile: serve what is there
        }
        done += static_cast<size_t>(n);
      }
      body->resize(done);
      *size = done;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

std::string_view StaticContentType(std::string_view file_name) {
  const std::string lower = AsciiLower(file_name);
  for (const ContentType& ct : kContentTypes) {
    // The name must have a stem: ".js" alone is a dot file, not a script.
    if (lower.size() > ct.suffix.size() && lower.ends_with(ct.suffix)) {
      return ct.type;
    }
  }
  return {};
}

std::optional<std::string> DecodeStaticPath(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '%') {
      if (i + 2 >= encoded.size()) {
        return std::nullopt;
      }
      const int hi = HexValue(encoded[i + 1]);
      const int lo = HexValue(encoded[i + 2]);
      if (hi < 0 || lo < 0) {
        return std::nullopt;
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
      // An encoded separator would survive into a path component; an
      // encoded '%' means double encoding. Neither is in a real asset name.
      if (c == '/' || c == '%') {
        return std::nullopt;
      }
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == '\\') {
      return std::nullopt;
    }
    out.push_back(c);
  }
  // Segment rules apply to the decoded text ("%2e%2e" is "..").
  if (out.empty()) {
    return out;  // the directory itself
  }
  for (size_t start = 0;;) {
    const size_t slash = out.find('/', start);
    if (slash == std::string::npos) {
      // The last segment may be empty ("dir/"): that directory's index.
      if (start < out.size() && out[start] == '.') {
        return std::nullopt;
      }
      break;
    }
    // Empty inner segments ("a//b", or a leading '/' making the path
    // absolute), ".", ".." and dot files.
    if (slash == start || out[start] == '.') {
      return std::nullopt;
    }
    start = slash + 1;
  }
  return out;
}

StaticFiles::StaticFiles(std::filesystem::path root) : root_(std::move(root)) {}

std::optional<HttpResponse> StaticFiles::Serve(const HttpRequest& req, std::string_view url_prefix,
                                               std::string_view subdir) const {
  if (url_prefix.size() < 2 || url_prefix.front() != '/' || url_prefix.back() != '/') {
    return std::nullopt;  // not a usable prefix: matches nothing
  }
  const std::string_view path = req.path;
  const bool bare_prefix = path == url_prefix.substr(0, url_prefix.size() - 1);
  if (!bare_prefix && !path.starts_with(url_prefix)) {
    return std::nullopt;
  }
  const bool head = req.method == "HEAD";
  if (req.method != "GET" && !head) {
    HttpResponse res = PlainResponse(405, "Method Not Allowed\n");
    res.headers["allow"] = "GET, HEAD";
    return res;
  }
  if (bare_prefix) {
    // Relative URLs in the page resolve against the directory, so "/demo"
    // must become "/demo/". The location is our own prefix: no open redirect.
    HttpResponse res = PlainResponse(301, "");
    res.headers["location"] =
        std::string(url_prefix) + (req.query.empty() ? std::string() : "?" + req.query);
    return res;
  }

  std::optional<std::string> relative = DecodeStaticPath(path.substr(url_prefix.size()));
  if (!relative) {
    return NotFound();
  }
  if (relative->empty() || relative->back() == '/') {
    relative->append(kIndexFile);
  }
  const std::string_view requested_name = std::string_view(*relative).substr(
      relative->rfind('/') == std::string::npos ? 0 : relative->rfind('/') + 1);
  const std::string_view content_type = StaticContentType(requested_name);
  if (content_type.empty()) {
    return NotFound();
  }

  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::canonical(root_ / subdir, ec);
  if (ec) {
    return NotFound();
  }
  // canonical() resolves every symlink, so the containment check below also
  // catches links (anywhere on the path) that lead out of the directory.
  const std::filesystem::path file = std::filesystem::canonical(dir / *relative, ec);
  if (ec || !IsWithin(file, dir) || StaticContentType(file.filename().string()).empty()) {
    return NotFound();
  }
  size_t size = 0;
  std::string body;
  if (!ReadRegularFile(file, &size, head ? nullptr : &body)) {
    return NotFound();
  }

  HttpResponse res;
  res.status = 200;
  res.headers["content-type"] = std::string(content_type);
  res.headers["x-content-type-options"] = "nosniff";
  // Revalidate every time: SDK and demo change with the server version.
  res.headers["cache-control"] = "no-cache";
  if (content_type.starts_with("text/html")) {
    res.headers["content-security-policy"] = kHtmlCsp;
    res.headers["referrer-policy"] = "no-referrer";
  }
  if (head) {
    res.headers["content-length"] = std::to_string(size);
  } else {
    res.body = std::move(body);
  }
  return res;
}

}  // namespace aegis::net
