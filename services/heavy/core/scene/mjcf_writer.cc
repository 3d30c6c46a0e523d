#include "services/heavy/core/scene/mjcf_writer.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "libs/common/str_cat.h"

namespace workerpair::heavy::scene {
namespace {

std::string Vec(const double* v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += StrCat(i ? " " : "", v[i]);
  return out;
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string AssemblyToMjcf(const Assembly& assembly, const Manifest& manifest,
                           const SceneLimits& limits) {
  const int nparts = static_cast<int>(assembly.parts.size());
  // Contact buffers sized for the parts: MuJoCo's default nconmax=100 overflows on piles.
  const int nconmax = std::min(limits.max_nconmax, std::max(100, 20 * nparts));
  const int njmax = std::min(limits.max_njmax, std::max(500, 60 * nparts));
  const double timestep = manifest.simulation.timestep_s.value_or(0.002);

  // Where the parts are, to aim the default camera and size the ground.
  std::array<double, 3> lo = {1e300, 1e300, 1e300}, hi = {-1e300, -1e300, -1e300};
  for (const AssemblyPart& part : assembly.parts) {
    for (int i = 0; i < 3; ++i) {
      lo[i] = std::min(lo[i], part.pos[i]);
      hi[i] = std::max(hi[i], part.pos[i]);
    }
  }
  for (const AssemblyZone& zone : assembly.zones) {
    for (int i = 0; i < 3; ++i) {
      lo[i] = std::min(lo[i], zone.pos[i] - zone.size[i]);
      hi[i] = std::max(hi[i], zone.pos[i] + zone.size[i]);
    }
  }
  const double center[3] = {(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2};
  double radius = 0.5;
  for (int i = 0; i < 3; ++i) radius = std::max(radius, (hi[i] - lo[i]) / 2 + 0.5);
  // From the front (-y) and above, looking at the centre: camera -z along (0, 2.5, -1.5).
  const double eye[3] = {center[0], center[1] - 2.5 * radius, center[2] + 1.5 * radius};
  const double ground_half = std::max(10.0, 4 * radius + std::max(std::abs(center[0]),
                                                                     std::abs(center[1])));

  std::string xml;
  xml += "<mujoco model=\"assembly\">\n";
  xml += "  <compiler angle=\"degree\" eulerseq=\"xyz\"/>\n";
  xml += StrCat("  <option timestep=\"", timestep, "\"/>\n");
  xml += StrCat("  <size njmax=\"", njmax, "\" nconmax=\"", nconmax, "\"/>\n");
  xml += StrCat("  <visual>\n    <global offwidth=\"", manifest.render.width,
                "\" offheight=\"", manifest.render.height, "\"/>\n  </visual>\n");
  xml += "  <asset>\n";
  xml += "    <texture name=\"grid\" type=\"2d\" builtin=\"checker\" width=\"256\" height=\"256\""
         " rgb1=\".3 .35 .4\" rgb2=\".2 .25 .3\"/>\n";
  xml += "    <material name=\"grid\" texture=\"grid\" texrepeat=\"8 8\" reflectance=\".1\"/>\n";
  for (const AssemblyPart& part : assembly.parts) {
    xml += StrCat("    <mesh name=\"mesh_", part.name, "\" file=\"", XmlEscape(part.mesh),
                  "\"/>\n");
  }
  xml += "  </asset>\n";
  xml += "  <worldbody>\n";
  xml += "    <light name=\"sun\" directional=\"true\" pos=\"0 0 10\" dir=\"0 0 -1\""
         " diffuse=\".8 .8 .8\" specular=\".2 .2 .2\" castshadow=\"false\"/>\n";
  xml += StrCat("    <camera name=\"", kDefaultCameraName, "\" pos=\"", Vec(eye, 3),
                "\" xyaxes=\"1 0 0 0 1.5 2.5\"/>\n");
  if (assembly.ground) {
    xml += StrCat("    <geom name=\"ground\" type=\"plane\" size=\"", ground_half, " ",
                  ground_half, " 0.1\" material=\"grid\"/>\n");
  }
  for (const AssemblyPart& part : assembly.parts) {
    xml += StrCat("    <body name=\"", part.name, "\" pos=\"", Vec(part.pos.data(), 3),
                  "\" euler=\"", Vec(part.euler_deg.data(), 3), "\">\n");
    if (!part.fixed) xml += StrCat("      <freejoint name=\"", part.name, "_free\"/>\n");
    xml += StrCat("      <geom name=\"", part.name, "\" type=\"mesh\" mesh=\"mesh_", part.name,
                  "\"");
    if (part.mass) {
      xml += StrCat(" mass=\"", *part.mass, "\"");
    } else {
      xml += StrCat(" density=\"", part.density.value_or(1000.0), "\"");
    }
    if (part.rgba) xml += StrCat(" rgba=\"", Vec(part.rgba->data(), 4), "\"");
    xml += "/>\n    </body>\n";
  }
  for (const AssemblyZone& zone : assembly.zones) {
    const bool goal = zone.name.starts_with(kGoalZonePrefix);
    xml += StrCat("    <site name=\"", zone.name, "\" type=\"box\" pos=\"",
                  Vec(zone.pos.data(), 3), "\" size=\"", Vec(zone.size.data(), 3),
                  "\" rgba=\"", goal ? "0.1 0.8 0.2 0.3" : "0.9 0.1 0.1 0.3", "\"/>\n");
  }
  xml += "  </worldbody>\n";
  xml += "</mujoco>\n";
  return xml;
}

}  // namespace workerpair::heavy::scene
