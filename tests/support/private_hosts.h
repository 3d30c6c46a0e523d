// A hosts file of the test's own over /etc/hosts, in a private mount namespace, so a dns:///
// name resolves to the loopback addresses a test chooses and can gain or lose addresses while
// clients run (what a headless Service does as pods come and go). Needs root.
//
//   int main(int argc, char** argv) {
//     PrivateHosts hosts("heavy-pool.test");   // first, while the process has one thread
//     g_hosts = &hosts;
//     return Catch::Session().run(argc, argv);
//   }
//   ... REQUIRE(g_hosts->setup_error().empty()); g_hosts->Write({"127.0.0.2"});
#ifndef WORKERPAIR_TESTS_SUPPORT_PRIVATE_HOSTS_H_
#define WORKERPAIR_TESTS_SUPPORT_PRIVATE_HOSTS_H_

#include <filesystem>
#include <string>
#include <vector>

namespace workerpair::testing {

class PrivateHosts {
 public:
  // unshare moves only the calling thread: construct it before any other thread starts, so
  // every later thread and child process inherits the namespace.
  explicit PrivateHosts(std::string host_name);
  // Unmounts the file and removes it.
  ~PrivateHosts();
  PrivateHosts(const PrivateHosts&) = delete;
  PrivateHosts& operator=(const PrivateHosts&) = delete;

  // Empty when the hosts file is in place; else why not (not root, unshare or mount failed).
  const std::string& setup_error() const { return setup_error_; }
  // `host_name` resolves to exactly `addresses` from now on (localhost stays).
  void Write(const std::vector<std::string>& addresses) const;

 private:
  std::string host_name_;
  std::filesystem::path file_;
  std::string setup_error_;
};

// A TCP port free on every address (INADDR_ANY): one port for a whole pool of loopback
// addresses, as in a headless Service. -1 when none could be had.
int FreePortOnAllAddresses();

}  // namespace workerpair::testing

#endif  // WORKERPAIR_TESTS_SUPPORT_PRIVATE_HOSTS_H_
