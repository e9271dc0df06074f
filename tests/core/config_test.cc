#include "core/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace aegis {
namespace {

std::string WriteTemp(const std::string& text) {
  char path[] = "/tmp/aegis-config-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  return path;
}

TEST(Config, DefaultsWithoutSources) {
  auto c = LoadConfig({});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.listen, "127.0.0.1:8443");
  EXPECT_FALSE(c->demo.enabled);
  EXPECT_EQ(c->media.udp_port_base, 50000);
}

TEST(Config, PrecedenceFileThenEnvThenFlags) {
  const std::string file = WriteTemp(
      "[server]\nlisten = \"0.0.0.0:9000\"\ndata_dir = \"/srv/aegis\"\n"
      "[demo]\nenabled = true\n[media]\nudp_port_base = 40000\n[api]\naddress_rate = 7.5\n");
  ConfigSources src;
  src.file = file;
  src.env = {{"AEGIS_MEDIA_UDP_PORT_BASE", "41000"}, {"AEGIS_SERVER_LISTEN", "127.0.0.1:9001"}};
  src.overrides = {{"server.listen", "127.0.0.1:9002"}};
  auto c = LoadConfig(src);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.data_dir, "/srv/aegis");    // file
  EXPECT_TRUE(c->demo.enabled);                   // file
  EXPECT_EQ(c->media.udp_port_base, 41000);       // env beats file
  EXPECT_EQ(c->server.listen, "127.0.0.1:9002");  // flag beats env
  EXPECT_DOUBLE_EQ(c->api.address_rate, 7.5);
  unlink(file.c_str());
}

TEST(Config, UnknownKeyIsAnError) {
  const std::string file = WriteTemp("[server]\nlisen = \"x\"\n");
  auto c = LoadConfig({.file = file});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), "config_unknown_key");
  EXPECT_NE(c.status().message().find("server.lisen"), std::string::npos);
  unlink(file.c_str());
}

TEST(Config, BadValuesNameTheKey) {
  auto c = LoadConfig({.env = {{"AEGIS_MEDIA_UDP_PORT_BASE", "70000"}}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), "config_bad_value");
  EXPECT_NE(c.status().message().find("media.udp_port_base"), std::string::npos);

  auto b = LoadConfig({.env = {{"AEGIS_DEMO_ENABLED", "maybe"}}});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), "config_bad_value");

  const std::string file = WriteTemp("[server]\nmax_body_bytes = \"big\"\n");
  auto f = LoadConfig({.file = file});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), "config_bad_value");
  unlink(file.c_str());
}

TEST(Config, ParseErrorAndMissingFile) {
  const std::string file = WriteTemp("[server\nlisten=\n");
  auto c = LoadConfig({.file = file});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), "config_parse_error");
  unlink(file.c_str());
  auto m = LoadConfig({.file = "/nonexistent/aegis.toml"});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), "config_file_unreadable");
}

TEST(Config, EnvNamesFollowTheConvention) {
  for (const ConfigKey& k : ConfigKeys()) {
    if (k.section == "media" && k.key == "udp_port_base") {
      EXPECT_EQ(k.EnvName(), "AEGIS_MEDIA_UDP_PORT_BASE");
    }
  }
}

// docs/CONFIG.md must document every key with its env name and default.
TEST(Config, EveryKeyIsDocumented) {
  const char* src = std::getenv("AEGIS_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  std::ifstream in(std::string(src) + "/docs/CONFIG.md");
  ASSERT_TRUE(in) << "docs/CONFIG.md missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const ConfigKey& k : ConfigKeys()) {
    EXPECT_NE(doc.find("`" + k.section + "." + k.key + "`"), std::string::npos)
        << k.section << "." << k.key << " not documented";
    EXPECT_NE(doc.find(k.EnvName()), std::string::npos) << k.EnvName() << " not documented";
  }
}

}  // namespace
}  // namespace aegis
