// The example scene `controller demo` puts into a fresh workspace: examples/scenes/ramp_goal
// (a ball rolls down an STL ramp into a goal zone), embedded at build time so the demo needs
// no source tree.
#ifndef WORKERPAIR_SERVICES_CONTROLLER_DEMO_SCENE_H_
#define WORKERPAIR_SERVICES_CONTROLLER_DEMO_SCENE_H_

#include <string>
#include <utility>
#include <vector>

namespace workerpair::controller {

// (workspace-relative path, bytes) of every file of the scene; manifest.json is at the root.
std::vector<std::pair<std::string, std::string>> DemoSceneFiles();

}  // namespace workerpair::controller

#endif  // WORKERPAIR_SERVICES_CONTROLLER_DEMO_SCENE_H_
