// Glob patterns over '/'-separated relative paths.
//
//   `*`   any run of characters except '/'
//   `?`   one character except '/'
//   `[a-z]`, `[!a-z]`  one character from (or not from) a set
//   `**`  as a whole component: any number of directories, including none
//
// A pattern without '/' is matched against the file name alone, so "*.xml" finds XML files at
// any depth; a pattern with '/' is matched against the whole relative path ("scenes/**/*.stl").
//
//   GlobMatches("*.xml", "scenes/ramp.xml")          // true
//   GlobMatches("scenes/*.xml", "scenes/a/b.xml")    // false
//   GlobMatches("scenes/**/*.xml", "scenes/a/b.xml") // true
#ifndef WORKERPAIR_LIBS_COMMON_GLOB_H_
#define WORKERPAIR_LIBS_COMMON_GLOB_H_

#include <string_view>

namespace workerpair {

// True when `relative_path` matches `pattern`. An empty pattern matches everything.
bool GlobMatches(std::string_view pattern, std::string_view relative_path);

}  // namespace workerpair

#endif  // WORKERPAIR_LIBS_COMMON_GLOB_H_
