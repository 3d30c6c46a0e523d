#!/usr/bin/env python3
"""Checks that CMake targets declare what their code includes (issue 14: CMake that fails loudly).

Configures the tree into a scratch directory with --graphviz (the direct link graph) and reads
the generated build.ninja (which sources each target compiles). Then, for every target:
  1. each project header its sources (and their own headers) include belongs to the target
     itself or to a target it links directly; headers of common_core, the base that every
     library links PUBLIC, are exempt;
  2. each third-party header family it includes (nlohmann, spdlog, OpenCV, MuJoCo, libgit2,
     expat, libarchive, zlib, OpenSSL, gRPC) is reachable through its links;
  3. a core library (libs/common, libs/scene, libs/sandbox, services/*/core) reaches no gRPC,
     no generated protobuf code and nothing of libs/rpc;
and every .cc under libs/ and services/ is compiled by some target.
Exit status 1 with one line per finding.

  check_target_includes.py <source dir> <scratch dir>
"""
import collections
import os
import re
import subprocess
import sys

THIRD_PARTY = {  # include prefix -> substrings one of the reachable link items must contain
    'nlohmann/': ('nlohmann_json',),
    'spdlog/': ('spdlog',),
    'opencv2/': ('opencv_',),
    'mujoco/': ('mujoco',),
    'git2': ('LIBGIT2', 'libgit2'),
    'expat.h': ('EXPAT',),
    'archive.h': ('LibArchive',),
    'archive_entry.h': ('LibArchive',),
    'zlib.h': ('ZLIB',),
    'openssl/': ('OpenSSL',),
    'grpcpp/': ('gRPC::grpc++',),
}
PROJECT_INCLUDE = re.compile(r'^\s*#include "((?:libs|services)/[^"]+\.h)"', re.M)
SYSTEM_INCLUDE = re.compile(r'^\s*#include <([^>]+)>', re.M)
CORE_DIRS = ('libs/common/', 'libs/scene/', 'libs/sandbox/')


def configure(source, scratch):
    os.makedirs(scratch, exist_ok=True)
    subprocess.run(['cmake', '-S', source, '-B', scratch, '-G', 'Ninja',
                    f'--graphviz={scratch}/targets.dot'],
                   check=True, stdout=subprocess.DEVNULL)


def read_graph(scratch):
    names, edges = {}, collections.defaultdict(set)
    for line in open(os.path.join(scratch, 'targets.dot')):
        m = re.match(r'\s*"(node\d+)" \[ label = "([^"]+)"', line)
        if m:
            names[m.group(1)] = m.group(2).replace('\\n', '')
        m = re.match(r'\s*"(node\d+)" -> "(node\d+)"', line)
        if m:
            edges[m.group(1)].add(m.group(2))
    return {names[a]: {names[b] for b in bs} for a, bs in edges.items()}


def read_sources(source, scratch):
    sources = collections.defaultdict(set)
    rule = re.compile(r'build \S+/CMakeFiles/([^/]+)\.dir/\S+\.o: CXX_COMPILER__\S+ (\S+)')
    for line in open(os.path.join(scratch, 'build.ninja')):
        m = rule.match(line)
        if m:
            path = os.path.relpath(m.group(2), source)
            if not path.startswith('..'):
                sources[m.group(1)].add(path)
    return sources


def closure(deps, target):
    seen, stack = {target}, [target]
    while stack:
        for nxt in deps.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def main():
    source, scratch = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    configure(source, scratch)
    deps = read_graph(scratch)
    sources = read_sources(source, scratch)

    def text(path):
        try:
            return open(os.path.join(source, path), encoding='utf-8').read()
        except OSError:
            return ''

    owner = collections.defaultdict(set)
    folder_libraries = collections.defaultdict(set)
    for target, files in sources.items():
        for f in files:
            header = re.sub(r'\.cc$', '.h', f)
            if os.path.exists(os.path.join(source, header)):
                owner[header].add(target)
            if not target.endswith('_test'):
                folder_libraries[os.path.dirname(f)].add(target)

    def owners_of(header):
        if header in owner:
            return owner[header]
        # A header-only file: the one library of its folder, when there is exactly one.
        libraries = folder_libraries.get(os.path.dirname(header), set())
        return libraries if len(libraries) == 1 else set()

    findings = []
    for target, files in sorted(sources.items()):
        if re.fullmatch(r'workerpair_\w+_proto|\w+_proto', target):
            continue
        own_files = set(files) | {re.sub(r'\.cc$', '.h', f) for f in files
                                  if os.path.exists(os.path.join(source,
                                                                 re.sub(r'\.cc$', '.h', f)))}
        direct = {target} | deps.get(target, set())
        reachable = closure(deps, target)
        for f in sorted(own_files):
            body = text(f)
            for header in PROJECT_INCLUDE.findall(body):
                owners = owners_of(header)
                if owners and not owners & direct and owners != {'common_core'}:
                    findings.append(f'{target}: {f} includes {header} but does not link '
                                    f'{" or ".join(sorted(owners))}')
            for header in SYSTEM_INCLUDE.findall(body):
                for prefix, wanted in THIRD_PARTY.items():
                    if header.startswith(prefix) and not any(
                            w in item for item in reachable for w in wanted):
                        findings.append(f'{target}: {f} includes <{header}> but links no '
                                        f'{wanted[0]}')
        is_core = all(f.startswith(CORE_DIRS) or '/core/' in f for f in files)
        if is_core and not target.endswith('_test') and not target.endswith('_cli'):
            leaks = sorted(x for x in reachable
                           if x.startswith(('gRPC::', 'rpc_')) or x.endswith('_proto'))
            if leaks:
                findings.append(f'{target}: a core library that reaches {", ".join(leaks[:3])}')

    compiled = set().union(*sources.values())
    for folder in ('libs', 'services'):
        for dirpath, _, filenames in os.walk(os.path.join(source, folder)):
            for name in filenames:
                path = os.path.relpath(os.path.join(dirpath, name), source)
                if name.endswith('.cc') and path not in compiled:
                    findings.append(f'{path} is compiled by no target')

    for line in findings:
        print(line)
    print(f'{len(sources)} targets checked, {len(findings)} findings')
    return 1 if findings else 0


if __name__ == '__main__':
    sys.exit(main())
