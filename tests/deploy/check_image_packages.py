#!/usr/bin/env python3
"""Checks a container image's runtime package list against what its binary actually loads.

  check_image_packages.py --binary build/services/light/worker-light \
      --packages deploy/docker/light.packages [--forbid-graphics] [--require PKG]...
  check_image_packages.py --build-packages deploy/docker/build.packages --setup scripts/setup.sh

Image mode: runs `ldd` on the binary, maps every resolved library to its Debian package with
`dpkg -S`, and fails naming each package that neither the list nor debian:12-slim provides (the
list's packages count with their installed Depends closure, since apt installs that too). Also
fails on an unresolved library ("not found"), on a --require package missing from the list
(libraries loaded with dlopen, which ldd cannot see), and with --forbid-graphics on any MuJoCo,
OpenCV or GL package in the list or its closure.

Build mode: fails naming each build dependency of scripts/setup.sh missing from the Docker build
stage's package list.
"""
import argparse
import os
import re
import subprocess
import sys

# Packages of the debian:12-slim image (Debian 12 "bookworm"): present before the Dockerfile
# installs anything, so a library they ship needs no entry in the list. The libc/libstdc++-level
# base only; listed explicitly so a change is a visible edit.
DEBIAN_12_SLIM_BASE = {
    "libc6", "libc-bin", "libgcc-s1", "libstdc++6", "gcc-12-base", "zlib1g", "libcrypt1",
    "libzstd1", "liblzma5", "libbz2-1.0", "liblz4-1", "libselinux1", "libpcre2-8-0", "libacl1",
    "libattr1", "libaudit1", "libaudit-common", "libcap-ng0", "libcap2", "libdb5.3", "libgmp10",
    "libmd0", "libsystemd0", "libudev1", "libtinfo6", "libgcrypt20", "libgpg-error0",
    "libgnutls30", "libhogweed6", "libnettle8", "libidn2-0", "libunistring2", "libp11-kit0",
    "libffi8", "libtasn1-6", "libseccomp2", "libxxhash0", "libuuid1", "libblkid1", "libmount1",
    "libsmartcols1", "libpam0g", "libsemanage2", "libsepol2", "libapt-pkg6.0", "debconf",
    "perl-base", "tzdata", "dpkg", "bash", "coreutils", "dash", "sed", "grep", "gzip", "tar",
    "util-linux", "mount", "login", "passwd", "debianutils", "base-files", "base-passwd",
}

# Packages the light image must never carry (nor pull in): simulation and rendering belong to the
# heavy image only.
GRAPHICS = re.compile(
    r"^(libmujoco.*|libopencv.*|libgl1.*|libglx.*|libegl.*|libgles.*|libopengl.*|libglvnd.*|"
    r"libglapi.*|mesa-.*|libgbm.*|libdrm.*|libvulkan.*|libx11.*|libxcb.*|libavcodec.*)$")

# scripts/setup.sh packages the Docker build stage does not need (runtime tools, tests, linters).
NOT_BUILD_DEPENDENCIES = {
    "git", "ffmpeg", "openssl", "pyflakes3", "shellcheck", "yamllint", "libgl1-mesa-dri",
    "libegl1", "libegl-mesa0", "nodejs", "npm",
    # The fuzz targets (scripts/fuzz.sh) are built with clang in the test command only.
    "clang", "libclang-rt-14-dev",
    # The Python client's tests run on the build machine, never in an image.
    "python3-grpcio", "python3-protobuf", "python3-setuptools", "python3-wheel", "python3-venv",
    "jq", "prometheus",
}


def read_list(path):
    with open(path, encoding="utf-8") as f:
        return [line.split("#", 1)[0].strip() for line in f if line.split("#", 1)[0].strip()]


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def ldd_libraries(binary):
    out = run(["ldd", binary])
    if out.returncode != 0:
        sys.exit(f"FAIL: ldd {binary}: {out.stderr.strip() or out.stdout.strip()}")
    libs, missing = [], []
    for line in out.stdout.splitlines():
        line = line.strip()
        m = re.match(r"^(\S+) => not found", line)
        if m:
            missing.append(m.group(1))
            continue
        m = re.match(r"^(\S+) => (/\S+)", line) or re.match(r"^(/\S+) \(", line)
        if m:
            libs.append(m.groups()[-1])
    return libs, missing


def candidates_of(path):
    """The path as given, with /usr merged or unmerged, and its real path (dpkg records one)."""
    real = os.path.realpath(path)
    out = [path, real]
    for p in (path, real):
        out.append(p[len("/usr"):] if p.startswith("/usr/") else "/usr" + p)
    return list(dict.fromkeys(out))


def packages_of(paths):
    """Maps each library path to its Debian package with one `dpkg -S` call (None: unowned)."""
    candidates = {p: candidates_of(p) for p in paths}
    owner = {}
    every = sorted({c for cs in candidates.values() for c in cs})
    if every:
        # Exit status is 1 when any candidate is unowned; the owned ones are still printed.
        for line in run(["dpkg", "-S", *every]).stdout.splitlines():
            if ": " not in line:
                continue
            pkgs, owned = line.split(": ", 1)
            owner.setdefault(owned.strip(), pkgs.split(",")[0].split(":")[0].strip())
    return {p: next((owner[c] for c in cs if c in owner), None) for p, cs in candidates.items()}


_status = None


def installed():
    """{package: (installed?, [depends clauses])} for every package dpkg knows, in one call."""
    global _status
    if _status is None:
        _status = {}
        out = run(["dpkg-query", "-W", "-f=${Package}\t${Status}\t${Depends}, ${Pre-Depends}\t${Provides}\n"])
        for line in out.stdout.splitlines():
            name, status, depends, provides = (line.split("\t") + ["", "", ""])[:4]
            ok = "install ok installed" in status
            _status[name] = (ok, [c for c in depends.split(",") if c.strip()])
            if ok:
                for prov in provides.split(","):
                    prov = re.sub(r"[\s(].*", "", prov.strip())
                    if prov and prov not in _status:
                        _status[prov] = (True, [name])
    return _status


def is_installed(package):
    return installed().get(package, (False, []))[0]


def depends_of(package):
    """Installed Depends + Pre-Depends of a package, alternatives resolved to installed ones."""
    deps = set()
    for clause in installed().get(package, (False, []))[1]:
        names = [re.sub(r"[\s(].*", "", alt.strip()).split(":")[0] for alt in clause.split("|")]
        names = [n for n in names if n]
        chosen = [n for n in names if is_installed(n)] or names
        if chosen:
            deps.add(chosen[0])
    return deps


def closure(packages):
    seen, todo = set(), list(packages)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo.extend(depends_of(p) - seen)
    return seen


def check_image(args):
    listed = read_list(args.packages)
    problems = []
    for p in args.require:
        if p not in listed:
            problems.append(f"{p} (required: loaded at run time with dlopen, invisible to ldd)")
    libs, unresolved = ldd_libraries(args.binary)
    for lib in unresolved:
        problems.append(f"{lib} (ldd: not found on this machine, so its package is unknown)")
    provided = closure(set(listed)) | DEBIAN_12_SLIM_BASE
    needed = {}
    owners = packages_of(libs)
    for lib in libs:
        pkg = owners[lib]
        if pkg is None:
            problems.append(f"{lib} (no Debian package owns it: a locally built library?)")
            continue
        needed.setdefault(pkg, []).append(os.path.basename(lib))
    for pkg, owned in sorted(needed.items()):
        if pkg not in provided:
            problems.append(f"{pkg} (provides {', '.join(sorted(set(owned)))})")
    if args.forbid_graphics:
        for p in sorted(closure(set(listed))):
            if GRAPHICS.match(p):
                origin = "listed" if p in listed else "pulled in by the list's dependencies"
                problems.append(f"{p} must not be in this image ({origin}): no MuJoCo, OpenCV or GL here")
    name = os.path.basename(args.packages)
    if problems:
        print(f"FAIL: {name} does not match {args.binary}:", file=sys.stderr)
        for p in problems:
            print(f"  missing or forbidden: {p}", file=sys.stderr)
        return 1
    print(f"OK: {name} covers the {len(libs)} libraries {os.path.basename(args.binary)} loads "
          f"({len(needed)} packages: {', '.join(sorted(needed))})")
    return 0


def check_build(args):
    text = open(args.setup, encoding="utf-8").read()
    m = re.search(r"PACKAGES=\((.*?)\n\)", text, re.S)
    if not m:
        sys.exit(f"FAIL: no PACKAGES=( ... ) array in {args.setup}")
    setup = [w for line in m.group(1).splitlines() for w in line.split("#", 1)[0].split()]
    build = set(read_list(args.build_packages))
    missing = [p for p in setup if p not in build and p not in NOT_BUILD_DEPENDENCIES]
    if missing:
        print(f"FAIL: {args.build_packages} lacks build dependencies from {args.setup}: "
              f"{' '.join(missing)}", file=sys.stderr)
        return 1
    print(f"OK: {os.path.basename(args.build_packages)} has every build dependency of "
          f"{os.path.basename(args.setup)} ({len(setup)} packages there)")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary")
    ap.add_argument("--packages")
    ap.add_argument("--forbid-graphics", action="store_true")
    ap.add_argument("--require", action="append", default=[])
    ap.add_argument("--build-packages")
    ap.add_argument("--setup")
    args = ap.parse_args()
    for tool in ("ldd", "dpkg", "dpkg-query"):
        if run(["sh", "-c", f"command -v {tool}"]).returncode != 0:
            sys.exit(f"FAIL: {tool} not found (this check needs a Debian system)")
    if args.build_packages:
        if not args.setup:
            ap.error("--build-packages needs --setup")
        return check_build(args)
    if not args.binary or not args.packages:
        ap.error("--binary and --packages are required")
    if not os.path.exists(args.binary):
        sys.exit(f"FAIL: binary {args.binary} does not exist (build it first)")
    return check_image(args)


if __name__ == "__main__":
    sys.exit(main())
