// Names in an MJCF scene: objects named twice within a kind, and references that name nothing.
//
//   std::vector<MjcfNameFinding> found = CheckMjcfNames(scene);   // scene from LoadMjcfScene
//   for (const MjcfNameFinding& f : found) ... f.code, f.path, f.line, f.column, f.message ...
//
// The kinds and the attributes that reference them, as MuJoCo 2.2.2 defines them (checked on
// 2.2.2 itself; see tests/scene/mjcf_names_test.cc):
//   mesh, texture, material, hfield, skin          children of <asset>
//   body, geom, site, camera, light, joint         under <worldbody> (freejoint is a joint)
//   tendon, actuator, sensor, equality             children of those sections
//   pair, exclude / numeric, text, tuple / key     children of <contact> / <custom> / <keyframe>
//   class                                          <default class=...>; the top-level <default>
//                                                  is "main" (only when one exists)
// A mesh, texture, hfield or skin without a name takes its file's name without directory and
// extension; the world body is "world".
//   class=, childclass=                      -> class     mesh=, hfield=, material=, texture=
//   body=, body1=, body2=, target=           -> body      joint=, joint1=, joint2=, jointinparent=
//   site=, sidesite=, cranksite=, slidersite= -> site     geom=, geom1=, geom2= -> geom
//   tendon=, tendon1=, tendon2=              -> tendon    actuator= -> actuator
//   objname= / refname=                      -> the kind in objtype= / reftype=
// A scene with a <composite> references object names MuJoCo makes up (B0_1, ...): there only
// class and asset references are checked. Only the sections that hold objects are read (<option>, <visual>, ... use some of these
// attribute names for other things). An empty value references nothing, as in MuJoCo.
//
// Codes:
//   mjcf/duplicate-name  error: two explicit names in one kind (MuJoCo: "repeated name");
//                        warning: a name taken from a file name repeats one (MuJoCo accepts it
//                        and references find the first)
//   mjcf/unknown-name    error: a reference naming no object of its kind (MuJoCo: "mesh 'x' not
//                        found", "unknown default class"); warning inside <default>, since
//                        MuJoCo only fails when an element of that class uses it
#ifndef WORKERPAIR_LIBS_SCENE_MJCF_NAMES_H_
#define WORKERPAIR_LIBS_SCENE_MJCF_NAMES_H_

#include <string>
#include <vector>

#include "libs/scene/mjcf_scene.h"

namespace workerpair::scene {

struct MjcfNameFinding {
  std::string code;
  // False for a warning (MuJoCo accepts the scene).
  bool error = true;
  std::string path;
  int line = 0;
  int column = 0;
  std::string message;
};

// Checks the names of `scene`. References are checked only when the scene is complete (every
// included file read): a missing file's names would otherwise all look unknown. Findings come
// in the scene's merged order; values in messages are cut (TextPreview).
std::vector<MjcfNameFinding> CheckMjcfNames(const MjcfScene& scene);

}  // namespace workerpair::scene

#endif  // WORKERPAIR_LIBS_SCENE_MJCF_NAMES_H_
