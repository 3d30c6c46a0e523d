#include "tests/support/private_hosts.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace workerpair::testing {
namespace {

std::string Failed(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

PrivateHosts::PrivateHosts(std::string host_name) : host_name_(std::move(host_name)) {
  if (geteuid() != 0) {
    setup_error_ = "needs root (a private mount namespace and a bind mount)";
    return;
  }
  if (unshare(CLONE_NEWNS) != 0) {
    setup_error_ = Failed("unshare(CLONE_NEWNS)");
    return;
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    setup_error_ = Failed("making / private");
    return;
  }
  char pattern[] = "/tmp/wp-private-hosts-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    setup_error_ = Failed("mkdtemp");
    return;
  }
  file_ = std::filesystem::path(pattern) / "hosts";
  Write({});
  if (mount(file_.c_str(), "/etc/hosts", nullptr, MS_BIND, nullptr) != 0) {
    setup_error_ = Failed("bind-mounting over /etc/hosts");
  }
}

PrivateHosts::~PrivateHosts() {
  if (file_.empty()) return;
  if (setup_error_.empty()) umount("/etc/hosts");
  std::error_code ignored;
  std::filesystem::remove_all(file_.parent_path(), ignored);
}

void PrivateHosts::Write(const std::vector<std::string>& addresses) const {
  // Rewritten in place: the bind mount follows the inode, not the name.
  std::ofstream out(file_, std::ios::trunc);
  out << "127.0.0.1 localhost\n";
  for (const std::string& address : addresses) out << address << " " << host_name_ << "\n";
}

int FreePortOnAllAddresses() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t size = sizeof(address);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
  close(fd);
  return ok ? ntohs(address.sin_port) : -1;
}

}  // namespace workerpair::testing
