// The process around the server: graceful drain on SIGTERM/SIGINT, start-up failures, and
// configuration by flags, WARRANT_* environment variables and a config file (spec/common.md
// "Operations").
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "tests/integration/harness.h"

namespace warrant::integration {
namespace {

// The "shards=N" of a ready line, or -1.
int shards_in(const std::string& ready_line) {
  const std::size_t at = ready_line.find(" shards=");
  return at == std::string::npos ? -1 : std::atoi(ready_line.c_str() + at + 8);
}

TEST(Drain, SigtermClosesIdleFinishesInFlightAndExitsZero) {
  server_process server({"--shards", "1", "--drain-timeout-ms", "10000", "--header-timeout-ms", "20000"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const std::uint16_t port = server.port();
  client idle(port);
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(idle.roundtrip(get("/healthz")));
  client busy(port);
  ASSERT_TRUE(busy.connected());
  ASSERT_TRUE(busy.roundtrip(get("/healthz")));
  ASSERT_TRUE(busy.send("GET /readyz HTTP/1.1\r\nHost: warr"));  // half a request
  ASSERT_TRUE(busy.quiet_for(50ms));

  const auto start = steady::now();
  server.send_signal(SIGTERM);
  ASSERT_TRUE(server.wait_stderr("warrantd: draining", 5s)) << server.stderr_text();
  EXPECT_EQ(idle.wait_closed(), read_status::eof) << "the idle connection is closed at once";
  EXPECT_TRUE(idle.buffered().empty()) << idle.buffered();

  // The listener is closed before idle connections (one shard): new connections are refused.
  client late(port, 2s);
  EXPECT_FALSE(late.connected()) << "a connection was accepted while draining";
  EXPECT_EQ(late.connect_errno(), ECONNREFUSED) << std::strerror(late.connect_errno());

  EXPECT_FALSE(server.exited()) << "an in-flight request holds the drain open";
  ASSERT_TRUE(busy.send("ant.test\r\n\r\n"));
  http_message m;
  ASSERT_EQ(busy.read_response(m), read_status::ok) << to_string(busy.last_read());
  EXPECT_EQ(m.status, 503) << "readyz reports not ready while draining: " << m.body;
  EXPECT_TRUE(is_json_error(m, 503, "NOT_READY"));
  EXPECT_EQ(m.header("Connection"), "close");
  EXPECT_EQ(busy.wait_closed(), read_status::eof);
  busy.close();  // else the server lingers on it (up to 2 s) before it can exit

  const std::optional<int> code = server.wait_exit(5s);
  ASSERT_TRUE(code) << "warrantd did not exit after its last connection closed";
  EXPECT_EQ(*code, 0) << server.stderr_text();
  EXPECT_LT(seconds_since(start), 5.0);
  const std::string err = server.stderr_text();
  EXPECT_NE(err.find("warrantd: stopped"), std::string::npos) << err;
  EXPECT_LT(err.find("warrantd: draining"), err.find("warrantd: stopped"));
}

TEST(Drain, InFlightHealthzIsAnsweredWithConnectionClose) {
  server_process server({"--shards", "2", "--drain-timeout-ms", "10000", "--body-timeout-ms", "20000"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/healthz", "Content-Length: 4\r\n") + "ab"));  // headers done, body pending
  ASSERT_TRUE(c.quiet_for(50ms));
  server.send_signal(SIGTERM);
  ASSERT_TRUE(server.wait_stderr("warrantd: draining", 5s));
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(c.send("cd"));
  http_message m;
  ASSERT_EQ(c.read_response(m), read_status::ok) << to_string(c.last_read());
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.header("Connection"), "close");
  EXPECT_EQ(c.wait_closed(), read_status::eof);
  c.close();
  const std::optional<int> code = server.wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
}

TEST(Drain, StalledRequestDoesNotHoldTheDrainPastItsBound) {
  server_process server({"--shards", "2", "--drain-timeout-ms", "500", "--header-timeout-ms", "60000"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client stalled(server.port());
  ASSERT_TRUE(stalled.connected());
  ASSERT_TRUE(stalled.send("GET /healthz HTTP/1.1\r\nHost"));
  ASSERT_TRUE(stalled.quiet_for(50ms));
  const auto start = steady::now();
  const std::optional<int> code = server.stop(10s);
  const double elapsed = seconds_since(start);
  ASSERT_TRUE(code) << "no exit within 10 s; stderr: " << server.stderr_text();
  EXPECT_EQ(*code, 0) << server.stderr_text();
  EXPECT_GT(elapsed, 0.3) << "the drain waits for the in-flight request up to its bound";
  EXPECT_LT(elapsed, 3.0);
  const read_status end = stalled.wait_closed(2s);
  EXPECT_TRUE(end == read_status::eof || end == read_status::reset) << to_string(end);
}

TEST(Drain, EveryShardStopsAccepting) {
  server_process server({"--shards", "2", "--drain-timeout-ms", "10000", "--header-timeout-ms", "20000"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const std::uint16_t port = server.port();
  client busy(port);  // holds the drain open meanwhile
  ASSERT_TRUE(busy.connected());
  ASSERT_TRUE(busy.send("GET /healthz HTTP/1.1\r\n"));
  ASSERT_TRUE(busy.quiet_for(50ms));
  server.send_signal(SIGTERM);
  ASSERT_TRUE(server.wait_stderr("warrantd: draining", 5s));
  // Whatever a connection attempt lands on, it is refused, or answered 503 and closed.
  int refused_in_a_row = 0;
  const auto start = steady::now();
  while (refused_in_a_row < 20 && seconds_since(start) < 5) {
    client probe(port, 1s);
    if (!probe.connected()) {
      EXPECT_EQ(probe.connect_errno(), ECONNREFUSED) << std::strerror(probe.connect_errno());
      ++refused_in_a_row;
      continue;
    }
    refused_in_a_row = 0;
    http_message m;
    const read_status s = probe.read_response(m, false, 2s);
    if (s == read_status::ok) {
      EXPECT_TRUE(is_json_error(m, 503, "OVERLOADED"));
    } else {
      EXPECT_TRUE(s == read_status::eof || s == read_status::reset) << to_string(s);
    }
  }
  EXPECT_EQ(refused_in_a_row, 20) << "connections are still accepted while draining";
  ASSERT_TRUE(busy.send("Host: warrant.test\r\n\r\n"));
  http_message m;
  ASSERT_EQ(busy.read_response(m), read_status::ok);
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.header("Connection"), "close");
  busy.close();
  EXPECT_EQ(server.wait_exit(5s), 0);
}

TEST(Drain, IdleServerStopsAtOnceOnSigint) {
  server_process server({"--shards", "2"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client idle(server.port());
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(idle.roundtrip(get("/healthz")));
  const auto start = steady::now();
  server.send_signal(SIGINT);
  const std::optional<int> code = server.wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_LT(seconds_since(start), 3.0) << "idle connections do not hold the drain";
  EXPECT_EQ(idle.wait_closed(), read_status::eof);
}

TEST(Drain, SecondSignalExitsAtOnceWithFailure) {
  server_process server({"--shards", "1", "--drain-timeout-ms", "60000", "--header-timeout-ms", "60000"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client stalled(server.port());
  ASSERT_TRUE(stalled.connected());
  ASSERT_TRUE(stalled.send("GET /healthz HTTP/1.1\r\n"));
  ASSERT_TRUE(stalled.quiet_for(50ms));
  server.send_signal(SIGTERM);
  ASSERT_TRUE(server.wait_stderr("warrantd: draining", 5s));
  server.send_signal(SIGTERM);
  const std::optional<int> code = server.wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1);
  EXPECT_NE(server.stderr_text().find("second signal"), std::string::npos) << server.stderr_text();
}

// ---- start-up failures ------------------------------------------------------------------

// Options for a start that must fail (or print help): no ready line expected.
launch_options failing(std::vector<std::string> args) {
  launch_options o;
  o.args = std::move(args);
  o.expect_ready = false;
  o.ready_timeout = 10s;
  return o;
}

// The exit code of a start expected to fail (-1 if it became ready or hung).
int start_expecting_failure(server_process& p) {
  if (p.ready()) return -1;
  return p.wait_exit(10s).value_or(-1);
}

TEST(Startup, UnknownFlagIsRefused) {
  server_process p(failing({"--no-such-flag"}));
  const int code = start_expecting_failure(p);
  EXPECT_NE(code, 0);
  EXPECT_NE(code, -1);
  EXPECT_NE(p.stderr_text().find("no-such-flag"), std::string::npos) << p.stderr_text();
}

TEST(Startup, BadFlagValuesAreRefused) {
  const std::vector<std::vector<std::string>> bad = {
      {"--shards", "0"},           {"--shards", "many"},          {"--header-timeout-ms", "-5"},
      {"--recv-buffers", "1000"},  {"--listen", "127.0.0.1"},      {"--listen", "127.0.0.1:99999"},
      {"--headers-max", "101"},    {"--connections-max", "0"},
  };
  for (const auto& args : bad) {
    SCOPED_TRACE(args[0] + " " + args[1]);
    server_process p(failing(args));
    const int code = start_expecting_failure(p);
    EXPECT_NE(code, 0);
    EXPECT_NE(code, -1);
    EXPECT_FALSE(p.stderr_text().empty());
  }
}

TEST(Startup, HelpAndVersionExitZero) {
  for (std::string_view flag : {"--help", "--version"}) {
    server_process p(failing({std::string(flag)}));
    EXPECT_EQ(start_expecting_failure(p), 0) << flag;
    EXPECT_NE(p.stdout_text().find(flag == "--help" ? "--header-timeout-ms" : "warrantd "), std::string::npos)
        << p.stdout_text();
  }
}

TEST(Startup, BusyPortIsRefused) {
  server_process first({"--shards", "2"});
  ASSERT_TRUE(first.ready()) << first.stderr_text();
  launch_options o = failing({"--listen", "127.0.0.1:" + std::to_string(first.port()), "--shards", "2"});
  o.default_listen = false;
  server_process second(o);
  EXPECT_EQ(start_expecting_failure(second), 1);
  EXPECT_NE(second.stderr_text().find("already in use"), std::string::npos) << second.stderr_text();
  // The first one is untouched: still the only one answering there.
  EXPECT_EQ(fetch(first.port(), get("/healthz"))->status, 200);
}

TEST(Startup, UnwritableDataDirIsRefused) {
  temp_dir dir;
  const std::string file = dir.path() + "/a-file";
  std::ofstream(file) << "not a directory\n";
  launch_options o = failing({"--data-dir", file + "/data"});
  o.default_data_dir = false;
  server_process p(o);
  EXPECT_EQ(start_expecting_failure(p), 1);
  EXPECT_NE(p.stderr_text().find(file), std::string::npos) << "names the directory: " << p.stderr_text();

  launch_options plain_file = o;
  plain_file.args = {"--data-dir", file};
  server_process q(plain_file);
  EXPECT_EQ(start_expecting_failure(q), 1);
  EXPECT_NE(q.stderr_text().find(file), std::string::npos) << q.stderr_text();
}

TEST(Startup, SecondServerOnTheSameDataDirIsRefused) {
  server_process first({"--shards", "1"});
  ASSERT_TRUE(first.ready()) << first.stderr_text();
  launch_options o = failing({"--data-dir", first.data_dir(), "--shards", "1"});
  o.default_data_dir = false;
  server_process second(o);
  EXPECT_EQ(start_expecting_failure(second), 1);
  const std::string err = second.stderr_text();
  EXPECT_NE(err.find("in use by another warrantd"), std::string::npos) << err;
  EXPECT_NE(err.find(std::to_string(first.pid())), std::string::npos) << "names the owner's pid: " << err;
  EXPECT_EQ(fetch(first.port(), get("/readyz"))->status, 200);

  // Once the first has stopped, the directory can be used again.
  ASSERT_EQ(first.stop(), 0);
  o.expect_ready = true;
  server_process third(o);
  EXPECT_TRUE(third.ready()) << third.stderr_text();
}

TEST(Startup, ReadyLineDescribesTheServer) {
  server_process server({"--shards", "3"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const std::string& line = server.ready_line();
  EXPECT_EQ(line.rfind("warrantd ready on 127.0.0.1:", 0), 0u) << line;
  EXPECT_EQ(shards_in(line), 3) << line;
  EXPECT_NE(line.find(" data-dir=" + server.data_dir() + " "), std::string::npos) << line;
  EXPECT_NE(line.find(" pid=" + std::to_string(server.pid())), std::string::npos) << line;
  EXPECT_EQ(metric_value(scrape_metrics(server.port()), "warrant_shards"), 3.0);
}

// ---- configuration sources ----------------------------------------------------------------

TEST(Config, EnvironmentVariables) {
  launch_options o;
  o.env = {{"WARRANT_SHARDS", "3"}, {"WARRANT_CONNECTIONS_MAX", "1"}};
  server_process server(o);
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  EXPECT_EQ(shards_in(server.ready_line()), 3) << server.ready_line();
  EXPECT_EQ(metric_value(scrape_metrics(server.port()), "warrant_shards"), 3.0);

  launch_options flag_wins = o;
  flag_wins.args = {"--shards", "2"};
  server_process second(flag_wins);
  ASSERT_TRUE(second.ready()) << second.stderr_text();
  EXPECT_EQ(shards_in(second.ready_line()), 2) << "a flag beats the environment";
}

TEST(Config, ConfigFile) {
  temp_dir dir;
  const std::string path = dir.path() + "/warrantd.conf";
  std::ofstream(path) << "# warrantd settings\n"
                         "shards = 3\n"
                         "\n"
                         "connections-max = 1   # one client per shard\n"
                         "header-timeout-ms = \"4000\"\n";
  {
    server_process server({"--config", path});
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    EXPECT_EQ(shards_in(server.ready_line()), 3) << server.ready_line();
  }
  {
    server_process server({"--config", path, "--shards", "1"});
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    EXPECT_EQ(shards_in(server.ready_line()), 1) << "a flag beats the file";
    // connections-max = 1 from the file: a second client is refused.
    client first(server.port());
    ASSERT_TRUE(first.connected());
    ASSERT_TRUE(first.roundtrip(get("/healthz")));
    const auto refused = fetch(server.port(), get("/healthz"));
    ASSERT_TRUE(refused);
    EXPECT_TRUE(is_json_error(*refused, 503, "OVERLOADED"));
  }
  {
    launch_options o;
    o.args = {"--config", path};
    o.env = {{"WARRANT_SHARDS", "2"}};
    server_process server(o);
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    EXPECT_EQ(shards_in(server.ready_line()), 2) << "the environment beats the file";
  }
  {
    launch_options o;
    o.env = {{"WARRANT_CONFIG", path}};
    server_process server(o);
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    EXPECT_EQ(shards_in(server.ready_line()), 3) << "WARRANT_CONFIG names the file";
  }
}

TEST(Config, BadConfigFilesAreRefused) {
  temp_dir dir;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"unknown setting", "no-such-setting = 1\n"},
      {"not key = value", "shards 3\n"},
      {"bad value", "shards = lots\n"},
  };
  for (const auto& [what, text] : bad) {
    SCOPED_TRACE(what);
    const std::string path = dir.path() + "/bad.conf";
    std::ofstream(path) << text;
    server_process p(failing({"--config", path}));
    const int code = start_expecting_failure(p);
    EXPECT_NE(code, 0);
    EXPECT_NE(code, -1);
    EXPECT_FALSE(p.stderr_text().empty());
  }
  server_process missing(failing({"--config", dir.path() + "/missing.conf"}));
  const int code = start_expecting_failure(missing);
  EXPECT_NE(code, 0);
  EXPECT_NE(code, -1);
  EXPECT_NE(missing.stderr_text().find("missing.conf"), std::string::npos) << missing.stderr_text();
}

}  // namespace
}  // namespace warrant::integration
