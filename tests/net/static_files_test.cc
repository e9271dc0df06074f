// StaticFiles (net/static_files.h) against a real directory tree in a TempDir:
// <tmp>/outside/ (never reachable) and <tmp>/www/{sdk,demo}/ (the web root).
#include "net/static_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "test_util.h"

namespace aegis::net {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::path(dir_.path());
    root_ = base_ / "www";
    Write(root_ / "secret.txt", "root secret");  // in the root, outside every mapping
    Write(base_ / "outside" / "evil.js", "evil()");
    Write(root_ / "sdk" / "aegis.js", "export const x = 1;");
    Write(root_ / "sdk" / "aegis.d.ts", "export declare const x: number;");
    Write(root_ / "sdk" / "aegis.js.map", "{}");
    Write(root_ / "sdk" / "notes.exe", "MZ");
    Write(root_ / "sdk" / ".hidden.js", "hidden");
    Write(root_ / "sdk" / "%2e%2e.txt", "literal percent name");
    Write(root_ / "demo" / "index.html", "<!doctype html><p>demo</p>");
    Write(root_ / "demo" / "app.css", "p{}");
    Write(root_ / "demo" / "sub" / "index.html", "<p>sub</p>");
    fs::create_directories(root_ / "demo" / "empty");
    fs::create_directories(root_ / "demo" / "dir.js");
  }

  static void Write(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << content;
  }

  static HttpRequest Request(const std::string& method, const std::string& target) {
    HttpRequest req;
    req.method = method;
    req.target = target;
    const size_t q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    req.client_ip = "127.0.0.1";
    return req;
  }

  // Tries the two mappings the daemon uses, like its router would.
  std::optional<HttpResponse> Serve(const std::string& target, const std::string& method = "GET") {
    const StaticFiles files(root_);
    const HttpRequest req = Request(method, target);
    if (auto res = files.Serve(req, "/sdk/", "sdk")) {
      return res;
    }
    return files.Serve(req, "/demo/", "demo");
  }

  int Status(const std::string& target) {
    auto res = Serve(target);
    return res ? res->status : 0;
  }

  testing::TempDir dir_;
  fs::path base_;
  fs::path root_;
};

TEST_F(StaticFilesTest, ServesFileWithTypeAndSecurityHeaders) {
  auto res = Serve("/sdk/aegis.js?v=1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "export const x = 1;");
  EXPECT_EQ(res->headers["content-type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(res->headers["x-content-type-options"], "nosniff");
  EXPECT_EQ(res->headers["cache-control"], "no-cache");
  EXPECT_EQ(res->headers.count("content-security-policy"), 0u);  // html only

  res = Serve("/sdk/aegis.d.ts");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->headers["content-type"], "application/typescript");
  EXPECT_EQ(Serve("/sdk/aegis.js.map")->headers["content-type"], "application/json");
  EXPECT_EQ(Serve("/demo/app.css")->headers["content-type"], "text/css; charset=utf-8");
}

TEST_F(StaticFilesTest, DirectoryServesIndexHtmlWithCsp) {
  for (const char* target : {"/demo/", "/demo/index.html", "/demo/?x=1"}) {
    auto res = Serve(target);
    ASSERT_TRUE(res) << target;
    EXPECT_EQ(res->status, 200) << target;
    EXPECT_EQ(res->body, "<!doctype html><p>demo</p>");
    EXPECT_EQ(res->headers["content-type"], "text/html; charset=utf-8");
    EXPECT_EQ(res->headers["content-security-policy"],
              "default-src 'self'; connect-src 'self' wss:; img-src 'self' data: blob:; "
              "media-src 'self' blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    EXPECT_EQ(res->headers["referrer-policy"], "no-referrer");
  }
  EXPECT_EQ(Serve("/demo/sub/")->body, "<p>sub</p>");
  EXPECT_EQ(Status("/demo/empty/"), 404);  // no index.html
  EXPECT_EQ(Status("/sdk/"), 404);
}

TEST_F(StaticFilesTest, PrefixWithoutSlashRedirects) {
  auto res = Serve("/demo");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 301);
  EXPECT_EQ(res->headers["location"], "/demo/");
  res = Serve("/demo?room=1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->headers["location"], "/demo/?room=1");
}

TEST_F(StaticFilesTest, HeadHasLengthButNoBody) {
  auto res = Serve("/sdk/aegis.js", "HEAD");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "");
  EXPECT_EQ(res->headers["content-length"], "19");
  EXPECT_EQ(res->headers["content-type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(Serve("/sdk/missing.js", "HEAD")->status, 404);
}

TEST_F(StaticFilesTest, OtherMethodsGet405WithAllow) {
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
    auto res = Serve("/sdk/aegis.js", method);
    ASSERT_TRUE(res) << method;
    EXPECT_EQ(res->status, 405) << method;
    EXPECT_EQ(res->headers["allow"], "GET, HEAD");
  }
}

TEST_F(StaticFilesTest, OnlyMatchingPrefixesAreServed) {
  for (const char* target : {"/", "/other/aegis.js", "/sdkx/aegis.js", "/SDK/aegis.js",
                             "/%73dk/aegis.js", "/api/sdk/aegis.js"}) {
    EXPECT_FALSE(Serve(target)) << target;
  }
  EXPECT_EQ(Status("/sdk/missing.js"), 404);  // prefix matches: a response
}

TEST_F(StaticFilesTest, TraversalAndEncodingTricksAre404) {
  for (const char* target : {
           "/sdk/../secret.txt",
           "/sdk/./aegis.js",
           "/sdk/%2e%2e/secret.txt",
           "/sdk/%2E%2E/secret.txt",
           "/sdk/.%2e/secret.txt",
           "/sdk/..%2fsecret.txt",
           "/sdk/..%2Fsecret.txt",
           "/sdk/%2fetc/passwd.txt",
           "/sdk//etc/hosts.txt",
           "/sdk/%252e%252e/secret.txt",  // double encoding
           "/sdk/%252e%252e.txt",         // decodes to an existing name, but with '%'
           "/sdk/..\\secret.txt",
           "/sdk/%5c..%5csecret.txt",
           "/sdk/aegis.js%00.txt",
           "/sdk/aegis%0a.js",
           "/sdk/.hidden.js",
           "/sdk/%2ehidden.js",
           "/sdk/%",
           "/sdk/%2",
           "/sdk/%zz.js",
           "/demo/sub/../../secret.txt",
       }) {
    EXPECT_EQ(Status(target), 404) << target;
  }
}

TEST_F(StaticFilesTest, SymlinkOutOfTheDirectoryIs404) {
  fs::create_symlink(base_ / "outside" / "evil.js", root_ / "sdk" / "link.js");
  fs::create_directory_symlink(base_ / "outside", root_ / "sdk" / "out");
  fs::create_symlink(root_ / "secret.txt", root_ / "sdk" / "secret.txt");  // root, not sdk/
  EXPECT_EQ(Status("/sdk/link.js"), 404);
  EXPECT_EQ(Status("/sdk/out/evil.js"), 404);
  EXPECT_EQ(Status("/sdk/secret.txt"), 404);
  // A link that stays inside the directory is fine.
  fs::create_symlink(root_ / "sdk" / "aegis.js", root_ / "sdk" / "alias.js");
  EXPECT_EQ(Status("/sdk/alias.js"), 200);
}

TEST_F(StaticFilesTest, SymlinkedMappedDirectoryIsItsOwnRoot) {
  // <root>/demo itself may be a link (e.g. to a versioned build); files are
  // checked against where it points.
  fs::remove_all(root_ / "demo");
  Write(base_ / "build-1" / "index.html", "<p>v1</p>");
  fs::create_directory_symlink(base_ / "build-1", root_ / "demo");
  EXPECT_EQ(Serve("/demo/")->body, "<p>v1</p>");
}

TEST_F(StaticFilesTest, UnknownExtensionsDirectoriesAndLargeFilesAre404) {
  EXPECT_EQ(Status("/sdk/notes.exe"), 404);  // exists, not on the allowlist
  EXPECT_EQ(Status("/demo/dir.js"), 404);    // a directory
  EXPECT_EQ(Status("/demo/sub"), 404);       // a directory, no extension
  { std::ofstream big(root_ / "sdk" / "big.js", std::ios::binary); }
  fs::resize_file(root_ / "sdk" / "big.js", StaticFiles::kMaxFileBytes + 1);  // sparse
  EXPECT_EQ(Status("/sdk/big.js"), 404);
  EXPECT_EQ(Serve("/sdk/big.js", "HEAD")->status, 404);
}

TEST_F(StaticFilesTest, MissingMappedDirectoryIs404) {
  const StaticFiles files(root_);
  auto res = files.Serve(Request("GET", "/img/a.png"), "/img/", "img");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST(StaticContentTypeTest, AllowlistByExtension) {
  EXPECT_EQ(StaticContentType("a.html"), "text/html; charset=utf-8");
  EXPECT_EQ(StaticContentType("a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(StaticContentType("A.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(StaticContentType("a.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(StaticContentType("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(StaticContentType("a.json"), "application/json");
  EXPECT_EQ(StaticContentType("a.js.map"), "application/json");
  EXPECT_EQ(StaticContentType("a.svg"), "image/svg+xml");
  EXPECT_EQ(StaticContentType("a.png"), "image/png");
  EXPECT_EQ(StaticContentType("favicon.ico"), "image/x-icon");
  EXPECT_EQ(StaticContentType("a.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(StaticContentType("a.ts"), "application/typescript");
  EXPECT_EQ(StaticContentType("a.d.ts"), "application/typescript");
  for (const char* name : {"a", "a.exe", "a.php", "a.pem", "a.key", "a.html.bak", "a.htm", ".js",
                           "a.jsx", "a.json5", "js", ""}) {
    EXPECT_EQ(StaticContentType(name), "") << name;
  }
}

TEST(DecodeStaticPathTest, DecodesOnceAndRejectsTricks) {
  EXPECT_EQ(DecodeStaticPath(""), "");
  EXPECT_EQ(DecodeStaticPath("a.js"), "a.js");
  EXPECT_EQ(DecodeStaticPath("dir/"), "dir/");
  EXPECT_EQ(DecodeStaticPath("a%20b.js"), "a b.js");
  EXPECT_EQ(DecodeStaticPath("%C3%A9.js"), "\xC3\xA9.js");
  EXPECT_EQ(DecodeStaticPath("a+b.js"), "a+b.js");
  EXPECT_EQ(DecodeStaticPath("v1.2/a.js"), "v1.2/a.js");
  for (const char* bad :
       {"..",          "../a.js",     "a/../b.js", "a/..",          ".",
        "./a.js",      "%2e%2e/a.js", "%2E./a.js", "a%2fb.js",      "a%2Fb.js",
        "/etc/passwd", "a//b.js",     "a\\b.js",   "a%5cb.js",      "a%00.js",
        "a%0d.js",     "a%7f.js",     "%252e.js",  "%25",           "%",
        "%4",          "%g0",         ".env",      "a/.git/config", "a%2e/../b"}) {
    EXPECT_FALSE(DecodeStaticPath(bad)) << bad;
  }
}

}  // namespace
}  // namespace aegis::net
