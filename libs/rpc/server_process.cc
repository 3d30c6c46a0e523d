#include "libs/rpc/server_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <system_error>
#include <thread>

#include "libs/common/str_cat.h"

namespace workerpair {
namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = StrCat(base != nullptr ? base : "/tmp", "/workerpair-test-XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::generic_category());
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::string& binary, const std::vector<std::string>& args, absl::Duration timeout,
    const std::vector<std::pair<std::string, std::string>>& env) {
  std::unique_ptr<ServerProcess> process(new ServerProcess());
  process->run_dir_ = std::make_unique<TempDir>();
  const fs::path port_file = process->run_dir_->path() / "port";

  std::vector<std::string> argv_strings = {binary, "--listen=127.0.0.1:0",
                                           StrCat("--port_file=", port_file.string())};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    // A server must not outlive whoever started it (a crashed test, an interrupted demo).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  process->pid_ = pid;

  // Wait for the port file, or for the process to die trying.
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      process->pid_ = -1;
      return absl::InternalError(StrCat(binary, " exited during start-up with status ", status));
    }
    std::ifstream in(port_file);
    if (in >> process->port_ && process->port_ > 0) {
      in >> process->metrics_port_ >> process->health_port_;
      return process;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(StrCat(binary, " did not report a port in time"));
}

ServerProcess::~ServerProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (Wait(absl::Seconds(15)) == -1) {
    ::kill(pid_, SIGKILL);
    Wait(absl::Seconds(5));
  }
}

std::string ServerProcess::address() const { return StrCat("127.0.0.1:", port_); }

std::shared_ptr<grpc::Channel> ServerProcess::Channel() const {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(256 << 20);
  arguments.SetMaxSendMessageSize(256 << 20);
  return grpc::CreateCustomChannel(address(), grpc::InsecureChannelCredentials(), arguments);
}

void ServerProcess::Signal(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

int ServerProcess::Wait(absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

}  // namespace workerpair
