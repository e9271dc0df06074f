#include "net/tls_policy.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <memory>

#include "core/clock.h"
#include "net/self_signed.h"
#include "test_util.h"

namespace aegis::net {
namespace {

struct CtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct SslFree {
  void operator()(SSL* p) const { SSL_free(p); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

class TlsPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FakeClock clock;
    auto files = EnsureSelfSignedCertificate(dir_.path(), clock);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    files_ = *files;
    server_.reset(SSL_CTX_new(TLS_server_method()));
    ASSERT_TRUE(ConfigureTlsServer(server_.get(), files_.cert_file, files_.key_file).ok());
  }

  // Runs a handshake between `client_ctx` and the server entirely in memory
  // (BIO pair). Returns the negotiated version, or 0 if it failed.
  int Handshake(SSL_CTX* client_ctx, std::string* cipher = nullptr) {
    SslPtr server(SSL_new(server_.get()));
    SslPtr client(SSL_new(client_ctx));
    BIO* server_bio = nullptr;
    BIO* client_bio = nullptr;
    EXPECT_EQ(BIO_new_bio_pair(&server_bio, 0, &client_bio, 0), 1);
    SSL_set_bio(server.get(), server_bio, server_bio);
    SSL_set_bio(client.get(), client_bio, client_bio);
    SSL_set_accept_state(server.get());
    SSL_set_connect_state(client.get());
    bool client_done = false;
    bool server_done = false;
    for (int i = 0; i < 20 && !(client_done && server_done); ++i) {
      if (!client_done) {
        const int r = SSL_do_handshake(client.get());
        if (r == 1) {
          client_done = true;
        } else if (SSL_get_error(client.get(), r) != SSL_ERROR_WANT_READ) {
          return 0;
        }
      }
      if (!server_done) {
        const int r = SSL_do_handshake(server.get());
        if (r == 1) {
          server_done = true;
        } else if (SSL_get_error(server.get(), r) != SSL_ERROR_WANT_READ) {
          return 0;
        }
      }
    }
    if (!(client_done && server_done)) {
      return 0;
    }
    if (cipher != nullptr) {
      *cipher = SSL_get_cipher_name(server.get());
    }
    return SSL_version(server.get());
  }

  static CtxPtr ClientCtx(int min_version, int max_version) {
    CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    // Security level 0 so that a failure is the server's doing, not the
    // client library refusing old protocols on its own.
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_cipher_list(ctx.get(), "ALL:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx.get(), min_version);
    SSL_CTX_set_max_proto_version(ctx.get(), max_version);
    return ctx;
  }

  testing::TempDir dir_;
  TlsFiles files_;
  CtxPtr server_;
};

TEST_F(TlsPolicyTest, SetsVersionsAndOptions) {
  EXPECT_EQ(SSL_CTX_get_min_proto_version(server_.get()), TLS1_2_VERSION);
  const uint64_t options = SSL_CTX_get_options(server_.get());
  EXPECT_NE(options & SSL_OP_NO_COMPRESSION, 0u);
  EXPECT_NE(options & SSL_OP_NO_RENEGOTIATION, 0u);
  EXPECT_NE(options & SSL_OP_CIPHER_SERVER_PREFERENCE, 0u);
  EXPECT_EQ(options & SSL_OP_ALLOW_CLIENT_RENEGOTIATION, 0u);
}

TEST_F(TlsPolicyTest, NullContextIsAnError) {
  EXPECT_EQ(ApplyTlsPolicy(nullptr).code(), "tls_policy");
}

TEST_F(TlsPolicyTest, DefaultClientNegotiatesTls13) {
  CtxPtr client(SSL_CTX_new(TLS_client_method()));
  EXPECT_EQ(Handshake(client.get()), TLS1_3_VERSION);
}

TEST_F(TlsPolicyTest, Tls12ClientGetsEcdheAead) {
  CtxPtr client = ClientCtx(TLS1_2_VERSION, TLS1_2_VERSION);
  std::string cipher;
  EXPECT_EQ(Handshake(client.get(), &cipher), TLS1_2_VERSION);
  EXPECT_EQ(cipher.rfind("ECDHE-ECDSA-", 0), 0u) << cipher;
  EXPECT_TRUE(cipher.find("GCM") != std::string::npos ||
              cipher.find("CHACHA20-POLY1305") != std::string::npos)
      << cipher;
}

TEST_F(TlsPolicyTest, Tls11ClientIsRefused) {
  CtxPtr client = ClientCtx(TLS1_VERSION, TLS1_1_VERSION);
  EXPECT_EQ(Handshake(client.get()), 0);
}

TEST_F(TlsPolicyTest, Tls12CbcOnlyClientIsRefused) {
  CtxPtr client = ClientCtx(TLS1_2_VERSION, TLS1_2_VERSION);
  ASSERT_EQ(SSL_CTX_set_cipher_list(client.get(),
                                    "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:AES128-SHA"),
            1);
  EXPECT_EQ(Handshake(client.get()), 0);
}

TEST_F(TlsPolicyTest, MissingCertificateIsReported) {
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  EXPECT_EQ(ConfigureTlsServer(ctx.get(), dir_.path() + "/nope.pem", files_.key_file).code(),
            "tls_cert");
}

}  // namespace
}  // namespace aegis::net
