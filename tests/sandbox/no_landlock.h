// For tests: makes this process (and its children) look like it runs on a kernel without
// Landlock, by a seccomp filter that fails landlock_create_ruleset with ENOSYS. Irreversible:
// call it in a forked child.
#ifndef WORKERPAIR_TESTS_SANDBOX_NO_LANDLOCK_H_
#define WORKERPAIR_TESTS_SANDBOX_NO_LANDLOCK_H_

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace workerpair::sandbox::testing {

inline bool HideLandlock() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_landlock_create_ruleset, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program = {static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0;
}

}  // namespace workerpair::sandbox::testing

#endif  // WORKERPAIR_TESTS_SANDBOX_NO_LANDLOCK_H_
