#include "net/self_signed.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "test_util.h"

namespace aegis::net {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

X509* LoadCert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) {
    return nullptr;
  }
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return cert;
}

TEST(SelfSignedTest, GeneratesLocalhostP256CertificateWithSans) {
  testing::TempDir dir;
  FakeClock clock(1'700'000'000'000);
  auto files = EnsureSelfSignedCertificate(dir.path(), clock);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_TRUE(files->generated);
  EXPECT_EQ(files->cert_file, dir.path() + "/tls/cert.pem");
  EXPECT_EQ(files->key_file, dir.path() + "/tls/key.pem");

  struct stat st {};
  ASSERT_EQ(::stat(files->key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path() + "/tls").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);

  X509* cert = LoadCert(files->cert_file);
  ASSERT_NE(cert, nullptr);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "localhost");

  EVP_PKEY* pub = X509_get0_pubkey(cert);
  ASSERT_NE(pub, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(pub), EVP_PKEY_EC);
  char group[32] = {};
  size_t group_len = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(pub, group, sizeof(group), &group_len), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(X509_verify(cert, pub), 1);  // self-signed

  std::set<std::string> sans;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(names, nullptr);
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      sans.insert("DNS:" +
                  std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                              ASN1_STRING_length(name->d.dNSName)));
    } else if (name->type == GEN_IPADD) {
      const int len = ASN1_STRING_length(name->d.iPAddress);
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(name->d.iPAddress), text,
                sizeof(text));
      sans.insert(std::string("IP:") + text);
    }
  }
  GENERAL_NAMES_free(names);
  EXPECT_EQ(sans, (std::set<std::string>{"DNS:localhost", "IP:127.0.0.1", "IP:::1"}));

  int days = 0;
  int secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert)), 1);
  EXPECT_GE(days, 365);
  EXPECT_LE(days, 366);
  // Valid at the injected "now".
  time_t now = static_cast<time_t>(clock.NowUnixSeconds());
  EXPECT_EQ(X509_cmp_time(X509_get0_notBefore(cert), &now), -1);
  EXPECT_EQ(X509_cmp_time(X509_get0_notAfter(cert), &now), 1);
  X509_free(cert);
}

TEST(SelfSignedTest, ReusesExistingPair) {
  testing::TempDir dir;
  FakeClock clock;
  auto first = EnsureSelfSignedCertificate(dir.path(), clock);
  ASSERT_TRUE(first.ok());
  const std::string cert = ReadFile(first->cert_file);
  auto second = EnsureSelfSignedCertificate(dir.path(), clock);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->generated);
  EXPECT_EQ(ReadFile(second->cert_file), cert);
}

TEST(SelfSignedTest, RegeneratesWhenOneFileIsMissing) {
  testing::TempDir dir;
  FakeClock clock;
  auto first = EnsureSelfSignedCertificate(dir.path(), clock);
  ASSERT_TRUE(first.ok());
  const std::string cert = ReadFile(first->cert_file);
  ASSERT_EQ(std::remove(first->key_file.c_str()), 0);
  auto second = EnsureSelfSignedCertificate(dir.path(), clock);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->generated);
  EXPECT_NE(ReadFile(second->cert_file), cert);
}

TEST(SelfSignedTest, RefusesKeyReadableByOthers) {
  testing::TempDir dir;
  FakeClock clock;
  auto first = EnsureSelfSignedCertificate(dir.path(), clock);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(::chmod(first->key_file.c_str(), 0644), 0);
  EXPECT_EQ(EnsureSelfSignedCertificate(dir.path(), clock).status().code(), "tls_key_permissions");
}

TEST(SelfSignedTest, ReportsUnwritableDirectory) {
  FakeClock clock;
  EXPECT_EQ(EnsureSelfSignedCertificate("/nonexistent/aegis", clock).status().code(), "tls_io");
}

}  // namespace
}  // namespace aegis::net
