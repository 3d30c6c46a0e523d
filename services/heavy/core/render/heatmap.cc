#include "services/heavy/core/render/heatmap.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "libs/common/file_io.h"
#include "libs/common/str_cat.h"

namespace workerpair::heavy::render {
namespace {

const cv::Scalar kInk(20, 20, 20);
const cv::Scalar kPaper(255, 255, 255);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

std::string FormatNumber(double value) {
  char buffer[32];
  const double magnitude = std::fabs(value);
  if (magnitude != 0 && (magnitude >= 1e5 || magnitude < 1e-2)) {
    std::snprintf(buffer, sizeof(buffer), "%.2e", value);
  } else if (magnitude >= 100) {
    std::snprintf(buffer, sizeof(buffer), "%.0f", value);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.2f", value);
  }
  return buffer;
}

void PutText(cv::Mat& image, const std::string& text, cv::Point origin, double scale = 0.45,
             int thickness = 1) {
  cv::putText(image, text, origin, kFont, scale, kInk, thickness, cv::LINE_AA);
}

// A title at the top left, shrunk until it fits the canvas's width.
void PutTitle(cv::Mat& canvas, const std::string& title) {
  double scale = 0.55;
  int baseline = 0;
  while (scale > 0.3 &&
         cv::getTextSize(title, kFont, scale, 1, &baseline).width > canvas.cols - 16) {
    scale -= 0.025;
  }
  PutText(canvas, title, {8, 22}, scale);
}

// Round tick values ("nice numbers": 1, 2 or 5 x 10^k apart) covering [lo, hi], about `target`.
std::vector<double> NiceTicks(double lo, double hi, int target = 5) {
  std::vector<double> ticks;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return ticks;
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    if (ticks.size() > 50) break;
  }
  return ticks;
}

// A tick label with as many decimals as the tick step needs.
std::string TickLabel(double value, double step) {
  char buffer[32];
  const int decimals = step >= 1 ? 0 : std::min(6, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  if (std::fabs(value) >= 1e5) {
    std::snprintf(buffer, sizeof(buffer), "%.1e", value);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  }
  return buffer;
}

int TextWidth(const std::string& text, double scale) {
  int baseline = 0;
  return cv::getTextSize(text, kFont, scale, 1, &baseline).width;
}

// A vertical colour bar in `bar` (bottom 0, top `scale_max`) with round ticks, its label on two
// lines above it ("<quantity>" / "<unit>"), and, when yield > 0, a heavy line at the yield
// labelled "yield <N> N" and the top tick saying ">=".
void DrawColorBar(cv::Mat& canvas, cv::Rect bar, const ColormapTable& colors, double scale_max,
                  const std::string& quantity, const std::string& unit, double yield = 0) {
  for (int y = 0; y < bar.height; ++y) {
    const double fraction = 1.0 - static_cast<double>(y) / std::max(1, bar.height - 1);
    const cv::Vec3b color = colors.At(fraction);
    cv::line(canvas, {bar.x, bar.y + y}, {bar.x + bar.width - 1, bar.y + y},
             cv::Scalar(color[0], color[1], color[2]));
  }
  cv::rectangle(canvas, bar, kInk, 1);
  auto y_of = [&](double value) {
    return bar.y + static_cast<int>(std::lround((1.0 - value / scale_max) * (bar.height - 1)));
  };
  const std::vector<double> ticks = NiceTicks(0, scale_max, 5);
  const double step = ticks.size() >= 2 ? ticks[1] - ticks[0] : scale_max;
  for (double value : ticks) {
    const int y = y_of(value);
    // The yield's label and the top's ">" label have their places.
    if (yield > 0 && (std::abs(y - y_of(yield)) < 12 || y - bar.y < 12)) continue;
    cv::line(canvas, {bar.x + bar.width, y}, {bar.x + bar.width + 4, y}, kInk, 1);
    PutText(canvas, TickLabel(value, step), {bar.x + bar.width + 7, y + 5}, 0.4);
  }
  if (yield > 0) {
    const int y = y_of(yield);
    cv::line(canvas, {bar.x - 5, y}, {bar.x + bar.width + 5, y}, kInk, 3);
    PutText(canvas, StrCat("yield ", TickLabel(yield, yield >= 10 ? 1 : 0.01)),
            {bar.x + bar.width + 7, y + 5}, 0.42, 1);
    PutText(canvas, StrCat(">", TickLabel(scale_max, scale_max >= 10 ? 1 : 0.01)),
            {bar.x + bar.width + 7, bar.y + 5}, 0.4);
  }
  PutText(canvas, quantity, {std::max(2, bar.x - 24), bar.y - 26}, 0.4);
  PutText(canvas, unit, {std::max(2, bar.x - 24), bar.y - 10}, 0.4);
}

}  // namespace

ColormapTable::ColormapTable(int colormap) {
  cv::Mat levels(1, 256, CV_8UC1);
  for (int i = 0; i < 256; ++i) levels.at<unsigned char>(0, i) = static_cast<unsigned char>(i);
  cv::Mat mapped;
  cv::applyColorMap(levels, mapped, colormap);
  for (int i = 0; i < 256; ++i) colors_[static_cast<size_t>(i)] = mapped.at<cv::Vec3b>(0, i);
}

cv::Vec3b ColormapTable::At(double fraction) const {
  if (!std::isfinite(fraction)) fraction = 0;
  const int level = static_cast<int>(std::lround(std::clamp(fraction, 0.0, 1.0) * 255.0));
  return colors_[static_cast<size_t>(level)];
}

cv::Vec3b ColormapColor(double fraction, int colormap) {
  return ColormapTable(colormap).At(fraction);
}

double ColorScaleTop(double yield_newtons, double largest_newtons) {
  if (yield_newtons > 0 && std::isfinite(yield_newtons)) return kYieldScaleTop * yield_newtons;
  return largest_newtons > 0 && std::isfinite(largest_newtons) ? largest_newtons : 1.0;
}

namespace {

constexpr float kNoContactGrey = 0.82f;

// One listed part, resolved: a body's geoms, or one world geom.
struct PaintedPart {
  std::string label;
  double peak = 0;
  int body = -1;  // >= 1: every geom of this body
  int geom = -1;  // else: this world geom
};

// Parts by model ids, and the colour scale's top. NOT_FOUND / INVALID_ARGUMENT as documented.
struct PaintPlan {
  explicit PaintPlan(int colormap) : colors(colormap) {}
  ColormapTable colors;
  std::vector<PaintedPart> parts;
  std::map<int, double> peak_by_body;
  std::map<int, double> peak_by_geom;
  double scale_max = 1.0;
  double yield = 0;
};

absl::StatusOr<PaintPlan> PlanPaint(const mjModel* m, const std::vector<BodyForce>& forces,
                                    const PartHeatmapOptions& options) {
  PaintPlan plan(options.colormap);
  double largest = 0;
  for (size_t i = 0; i < forces.size(); ++i) {
    const BodyForce& f = forces[i];
    if (!std::isfinite(f.peak_newtons) || f.peak_newtons < 0) {
      return absl::InvalidArgumentError(StrCat("force ", i, " (part '", f.body, "') is ",
                                               f.peak_newtons, "; expected finite and >= 0"));
    }
    PaintedPart part{f.body, f.peak_newtons};
    const int body = mj_name2id(m, mjOBJ_BODY, f.body.c_str());
    int geom = body < 0 ? mj_name2id(m, mjOBJ_GEOM, f.body.c_str()) : -1;
    if (body < 0 && geom < 0 && f.body.starts_with("geom")) {  // an unnamed geom, "geom<N>"
      const std::string digits = f.body.substr(4);
      if (!digits.empty() && digits.size() < 9 &&
          digits.find_first_not_of("0123456789") == std::string::npos) {
        const int id = std::stoi(digits);
        const char* name = id < m->ngeom ? mj_id2name(m, mjOBJ_GEOM, id) : "";
        if (id < m->ngeom && (name == nullptr || name[0] == '\0')) geom = id;
      }
    }
    if (body > 0) {
      part.body = body;
      plan.peak_by_body[body] = std::max(plan.peak_by_body[body], f.peak_newtons);
    } else if (geom >= 0 && m->geom_bodyid[geom] == 0) {
      part.geom = geom;
      plan.peak_by_geom[geom] = std::max(plan.peak_by_geom[geom], f.peak_newtons);
    } else {
      return absl::NotFoundError(StrCat("part '", f.body,
                                        "' is neither a body nor a geom of the world body"));
    }
    plan.parts.push_back(std::move(part));
    largest = std::max(largest, f.peak_newtons);
  }
  plan.yield = options.yield_newtons > 0 && std::isfinite(options.yield_newtons)
                   ? options.yield_newtons
                   : 0;
  plan.scale_max = plan.yield > 0 ? ColorScaleTop(plan.yield, largest)
                   : options.scale_max_newtons > 0 ? options.scale_max_newtons
                                                   : ColorScaleTop(0, largest);
  return plan;
}

cv::Vec3b PartColor(double force, const PaintPlan& plan) {
  return plan.colors.At(force / plan.scale_max);
}

// Colormap for listed parts, light grey for the rest, no materials.
void Paint(mjModel* model, const PaintPlan& plan) {
  for (int g = 0; g < model->ngeom; ++g) {
    float* rgba = model->geom_rgba + 4 * g;
    model->geom_matid[g] = -1;
    const int body = model->geom_bodyid[g];
    auto by_body = plan.peak_by_body.find(body);
    auto by_geom = plan.peak_by_geom.find(g);
    double force = -1;
    if (body != 0 && by_body != plan.peak_by_body.end()) force = by_body->second;
    if (body == 0 && by_geom != plan.peak_by_geom.end()) force = by_geom->second;
    if (force < 0) {
      rgba[0] = rgba[1] = rgba[2] = kNoContactGrey;
      continue;
    }
    const cv::Vec3b bgr = PartColor(force, plan);
    rgba[0] = bgr[2] / 255.0f;
    rgba[1] = bgr[1] / 255.0f;
    rgba[2] = bgr[0] / 255.0f;
    rgba[3] = 1.0f;
  }
}

// Pixel of world point `p` in a view of `width` x `height` seen by the scene's camera, as
// mjr_render projects it (the average of the two stereo cameras, a frustum whose half-width is
// the half-height times the aspect ratio). False when the point is behind the camera.
bool ProjectToView(const mjvScene& scene, const double p[3], int width, int height,
                   cv::Point* pixel, double* distance = nullptr) {
  const mjvGLCamera& c0 = scene.camera[0];
  const mjvGLCamera& c1 = scene.camera[1];
  double pos[3], forward[3], up[3], right[3];
  for (int j = 0; j < 3; ++j) {
    pos[j] = 0.5 * (c0.pos[j] + c1.pos[j]);
    forward[j] = 0.5 * (c0.forward[j] + c1.forward[j]);
    up[j] = 0.5 * (c0.up[j] + c1.up[j]);
  }
  right[0] = forward[1] * up[2] - forward[2] * up[1];
  right[1] = forward[2] * up[0] - forward[0] * up[2];
  right[2] = forward[0] * up[1] - forward[1] * up[0];
  const double v[3] = {p[0] - pos[0], p[1] - pos[1], p[2] - pos[2]};
  const double depth = v[0] * forward[0] + v[1] * forward[1] + v[2] * forward[2];
  if (depth <= c0.frustum_near) return false;
  const double x = (v[0] * right[0] + v[1] * right[1] + v[2] * right[2]) * c0.frustum_near / depth;
  const double y = (v[0] * up[0] + v[1] * up[1] + v[2] * up[2]) * c0.frustum_near / depth;
  const double half_h = 0.5 * (c0.frustum_top - c0.frustum_bottom);
  const double half_w = half_h * width / static_cast<double>(height);
  const double nx = (x - c0.frustum_center) / half_w;
  const double ny = (y - 0.5 * (c0.frustum_top + c0.frustum_bottom)) / half_h;
  *pixel = cv::Point(static_cast<int>(std::lround((nx + 1) * 0.5 * width)),
                     static_cast<int>(std::lround((1 - ny) * 0.5 * height)));
  if (distance != nullptr) *distance = depth;
  return true;
}

// Contact dots drawn over the rendered view: a filled circle in the contact's colour with a
// dark rim, hottest on top, each only where nothing nearer hides it (the point against the
// depth buffer of the render, `depth` in GL's bottom-up rows). Drawn in the image rather than as
// sphere geoms: a sphere is ~900 triangles, and a run's 2000 contacts cost llvmpipe ~0.3 s.
void DrawContactDots(cv::Mat& view, const std::vector<float>& depth, const mjvScene& scene,
                     const mjModel* m, const PaintPlan& plan,
                     const std::vector<ContactDot>& contacts) {
  const mjvGLCamera& camera = scene.camera[0];
  const double near_m = camera.frustum_near, far_m = camera.frustum_far;
  const double half_h = 0.5 * (camera.frustum_top - camera.frustum_bottom);
  if (!(near_m > 0) || !(far_m > near_m) || !(half_h > 0)) return;
  const double radius = std::max(0.004, 0.008 * m->stat.extent);
  std::vector<std::size_t> order;
  const std::size_t count = std::min<std::size_t>(contacts.size(), 2000);
  for (std::size_t i = 0; i < count; ++i) {
    const ContactDot& dot = contacts[i];
    if (std::isfinite(dot.force_newtons) && dot.force_newtons > 0) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return contacts[a].force_newtons < contacts[b].force_newtons;
  });
  for (std::size_t i : order) {
    const ContactDot& dot = contacts[i];
    const double pos[3] = {dot.pos[0], dot.pos[1], dot.pos[2]};
    cv::Point pixel;
    double distance = 0;
    if (!ProjectToView(scene, pos, view.cols, view.rows, &pixel, &distance)) continue;
    if (pixel.x < 0 || pixel.y < 0 || pixel.x >= view.cols || pixel.y >= view.rows) continue;
    const int pixels = std::clamp(
        static_cast<int>(std::lround(radius * near_m / distance / half_h * 0.5 * view.rows)), 3,
        12);
    // Drawn when some pixel of its disc sees no surface nearer than the point (the depth
    // buffer's distance along the view axis, with a little slack: a contact lies on a surface,
    // which must not hide it). A contact on a part's edge shows; one behind a part does not.
    const double slack = std::max(3 * radius, 0.01 * distance);
    bool seen = false;
    for (int dy = -pixels; dy <= pixels && !seen; ++dy) {
      const int y = pixel.y + dy;
      if (y < 0 || y >= view.rows) continue;
      for (int dx = -pixels; dx <= pixels && !seen; ++dx) {
        const int x = pixel.x + dx;
        if (x < 0 || x >= view.cols || dx * dx + dy * dy > pixels * pixels) continue;
        const std::size_t at = static_cast<std::size_t>(view.rows - 1 - y) * view.cols + x;
        if (at >= depth.size()) continue;
        const double window = depth[at];
        const double surface = near_m * far_m / (far_m - window * (far_m - near_m));
        seen = distance <= surface + slack;
      }
    }
    if (!seen) continue;
    const cv::Vec3b c = PartColor(dot.force_newtons, plan);
    // A white halo and, where there is room, a dark rim: a dot reads on a part of its own
    // colour (a lightly loaded part is the same dark blue as its light contacts).
    cv::circle(view, pixel, pixels + 1, cv::Scalar(255, 255, 255), cv::FILLED, cv::LINE_AA);
    cv::circle(view, pixel, pixels, cv::Scalar(c[0], c[1], c[2]), cv::FILLED, cv::LINE_AA);
    if (pixels >= 4) cv::circle(view, pixel, pixels, kInk, 1, cv::LINE_AA);
  }
}

// Where a part's label goes: the centre of its geoms' bounding spheres (a plane: its origin).
void PartCentre(const mjModel* m, const mjData* d, const PaintedPart& part, double centre[3]) {
  int n = 0;
  centre[0] = centre[1] = centre[2] = 0;
  for (int g = 0; g < m->ngeom; ++g) {
    if (part.geom >= 0 ? g != part.geom : m->geom_bodyid[g] != part.body) continue;
    for (int j = 0; j < 3; ++j) centre[j] += d->geom_xpos[3 * g + j];
    ++n;
  }
  for (int j = 0; j < 3 && n > 0; ++j) centre[j] /= n;
}

// A label with a white halo, so it reads on any colour.
void PutLabel(cv::Mat& image, const std::string& text, cv::Point at, double scale = 0.42) {
  at.x = std::clamp(at.x - TextWidth(text, scale) / 2, 2,
                    std::max(2, image.cols - TextWidth(text, scale) - 2));
  at.y = std::clamp(at.y, 14, image.rows - 4);
  cv::putText(image, text, at, kFont, scale, kPaper, 3, cv::LINE_AA);
  cv::putText(image, text, at, kFont, scale, kInk, 1, cv::LINE_AA);
}

std::string SafetyText(double peak, double yield) {
  if (!(yield > 0)) return "";
  if (!(peak > 0)) return ", SF inf";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), ", SF %.2f", yield / peak);
  return buffer;
}

// Renders the painted view (zone sites hidden: they would hide the parts they overlap) with the
// contact dots in the scene, then composes the labels, title strip, colour bar and legend.
absl::StatusOr<cv::Mat> RenderPainted(FrameRenderer& renderer, mjData* d, const PaintPlan& plan,
                                      const PartHeatmapOptions& options) {
  absl::StatusOr<mjvCamera> camera = ResolveCamera(renderer.model(), options.camera);
  if (!camera.ok()) return camera.status();
  const mjModel* m = renderer.model();
  mjvOption option = renderer.option();
  for (int i = 0; i < mjNGROUP; ++i) option.sitegroup[i] = 0;
  mjvPerturb perturb;
  mjv_defaultPerturb(&perturb);
  mjvScene scene;
  renderer.MakeScene(&scene);
  mjv_updateScene(m, d, &option, &perturb, &*camera, mjCAT_ALL, &scene);
  std::vector<float> depth;
  absl::StatusOr<cv::Mat> view =
      renderer.RenderScene(&scene, options.contacts.empty() ? nullptr : &depth);
  if (!view.ok()) {
    mjv_freeScene(&scene);
    return view.status();
  }
  DrawContactDots(*view, depth, scene, m, plan, options.contacts);
  const std::size_t dots = std::min<std::size_t>(options.contacts.size(), 2000);
  if (options.labels) {
    for (const PaintedPart& part : plan.parts) {
      // A plane has no centre worth pointing at (its origin is anywhere): the legend names it.
      if (part.geom >= 0 &&
          (m->geom_type[part.geom] == mjGEOM_PLANE || m->geom_type[part.geom] == mjGEOM_HFIELD)) {
        continue;
      }
      double centre[3];
      PartCentre(m, d, part, centre);
      cv::Point pixel;
      if (!ProjectToView(scene, centre, view->cols, view->rows, &pixel)) continue;
      if (pixel.x < 0 || pixel.y < 0 || pixel.x >= view->cols || pixel.y >= view->rows) continue;
      PutLabel(*view, part.label, pixel);
    }
  }
  mjv_freeScene(&scene);

  const int title_h = 34;
  const int panel_w = 230;
  cv::Mat canvas(std::max(view->rows, 300) + title_h, view->cols + panel_w, CV_8UC3, kPaper);
  view->copyTo(canvas(cv::Rect(0, title_h, view->cols, view->rows)));
  PutTitle(canvas, options.title);
  const int bar_top = title_h + 40;
  const int bar_h = std::max(80, static_cast<int>(0.45 * canvas.rows));
  const cv::Rect bar(view->cols + 40, bar_top, 22, bar_h);
  DrawColorBar(canvas, bar, plan.colors, plan.scale_max, "contact-force",
               "estimate, N", plan.yield);
  // Legend: each part's colour, name, peak total and safety factor; then what grey and the
  // dots mean.
  int y = bar.y + bar.height + 26;
  const int x = view->cols + 8;
  PutText(canvas, "peak total per part:", {x, y}, 0.4);
  y += 6;
  std::vector<const PaintedPart*> sorted;
  for (const PaintedPart& part : plan.parts) sorted.push_back(&part);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const PaintedPart* a, const PaintedPart* b) { return a->peak > b->peak; });
  const int room = std::max(0, (canvas.rows - 44 - y) / 17);
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (static_cast<int>(i) >= room - 1 && sorted.size() > static_cast<std::size_t>(room)) {
      PutText(canvas, StrCat("+", sorted.size() - i, " more"), {x, y + 14}, 0.38);
      y += 17;
      break;
    }
    const cv::Vec3b c = PartColor(sorted[i]->peak, plan);
    cv::rectangle(canvas, cv::Rect(x, y + 3, 12, 12), cv::Scalar(c[0], c[1], c[2]), cv::FILLED);
    cv::rectangle(canvas, cv::Rect(x, y + 3, 12, 12), kInk, 1);
    std::string line = StrCat(sorted[i]->label, " ", FormatNumber(sorted[i]->peak), " N",
                              SafetyText(sorted[i]->peak, plan.yield));
    double scale = 0.38;
    while (scale > 0.28 && TextWidth(line, scale) > panel_w - 26) scale -= 0.02;
    PutText(canvas, line, {x + 17, y + 14}, scale);
    y += 17;
  }
  if (plan.parts.empty()) {
    PutText(canvas, "no contacts", {x, y + 14}, 0.42);
    y += 17;
  }
  const int key_y = canvas.rows - 30;
  cv::rectangle(canvas, cv::Rect(x, key_y - 10, 12, 12),
                cv::Scalar(kNoContactGrey * 255, kNoContactGrey * 255, kNoContactGrey * 255),
                cv::FILLED);
  cv::rectangle(canvas, cv::Rect(x, key_y - 10, 12, 12), kInk, 1);
  PutText(canvas, "grey: no contact", {x + 17, key_y}, 0.38);
  if (dots > 0) {
    cv::circle(canvas, {x + 6, key_y + 14}, 4, kInk, cv::FILLED);
    PutText(canvas, "dots: contact points (own force)", {x + 17, key_y + 18}, 0.34);
  }
  return canvas;
}

}  // namespace

absl::StatusOr<cv::Mat> RenderPartHeatmap(const mjModel* m, mjData* d,
                                          const std::vector<BodyForce>& forces,
                                          const PartHeatmapOptions& options) {
  if (m == nullptr || d == nullptr) return absl::InvalidArgumentError("no model or data");
  absl::StatusOr<PaintPlan> plan = PlanPaint(m, forces, options);
  if (!plan.ok()) return plan.status();
  mjModel* painted = mj_copyModel(nullptr, m);
  if (painted == nullptr) return absl::InternalError("model copy failed");
  Paint(painted, *plan);
  absl::StatusOr<std::unique_ptr<FrameRenderer>> renderer =
      FrameRenderer::CreateOwning(painted, options.settings);
  if (!renderer.ok()) return renderer.status();
  return RenderPainted(**renderer, d, *plan, options);
}

absl::StatusOr<cv::Mat> RenderPartHeatmapWith(FrameRenderer& renderer, mjData* d,
                                              const std::vector<BodyForce>& forces,
                                              const PartHeatmapOptions& options) {
  if (d == nullptr) return absl::InvalidArgumentError("no data");
  mjModel* model = renderer.model();
  absl::StatusOr<PaintPlan> plan = PlanPaint(model, forces, options);
  if (!plan.ok()) return plan.status();
  const std::vector<float> saved_rgba(model->geom_rgba, model->geom_rgba + 4 * model->ngeom);
  const std::vector<int> saved_matid(model->geom_matid, model->geom_matid + model->ngeom);
  Paint(model, *plan);
  absl::StatusOr<cv::Mat> image = RenderPainted(renderer, d, *plan, options);
  std::copy(saved_rgba.begin(), saved_rgba.end(), model->geom_rgba);
  std::copy(saved_matid.begin(), saved_matid.end(), model->geom_matid);
  return image;
}

namespace {

cv::Scalar OutlineColor(ForceGrid::Outline::Kind kind) {
  switch (kind) {
    case ForceGrid::Outline::Kind::kGoalZone: return {40, 150, 30};
    case ForceGrid::Outline::Kind::kForbidZone: return {30, 30, 200};
    case ForceGrid::Outline::Kind::kStaticPart: return {110, 110, 110};
    case ForceGrid::Outline::Kind::kMovingPart: break;
  }
  return kInk;
}

}  // namespace

absl::StatusOr<cv::Mat> RenderForceGridImage(const ForceGrid& grid,
                                             const GridHeatmapOptions& options) {
  if (grid.width <= 0 || grid.height <= 0 || grid.width > 4096 || grid.height > 4096) {
    return absl::InvalidArgumentError(
        StrCat("grid is ", grid.width, "x", grid.height, "; expected 1..4096 a side"));
  }
  if (grid.values.size() != static_cast<size_t>(grid.width) * grid.height) {
    return absl::InvalidArgumentError(StrCat("grid has ", grid.values.size(), " values; expected ",
                                             grid.width, "x", grid.height));
  }
  if (!(grid.x_max > grid.x_min) || !(grid.y_max > grid.y_min) || !std::isfinite(grid.x_min) ||
      !std::isfinite(grid.x_max) || !std::isfinite(grid.y_min) || !std::isfinite(grid.y_max)) {
    return absl::InvalidArgumentError("grid extent is empty or not finite");
  }
  float largest = 0;
  for (size_t i = 0; i < grid.values.size(); ++i) {
    const float v = grid.values[i];
    if (!std::isfinite(v) || v < 0) {
      return absl::InvalidArgumentError(StrCat("grid value ", i, " is ", v,
                                               "; expected finite and >= 0"));
    }
    largest = std::max(largest, v);
  }
  double scale_max = options.scale_max > 0 ? options.scale_max : largest;
  if (scale_max <= 0) scale_max = 1.0;

  // The plot keeps the world's aspect ratio: the longer side gets plot_pixels, the shorter at
  // least 120 pixels (a thin world is padded in y or x, never stretched).
  double x_lo = grid.x_min, x_hi = grid.x_max, y_lo = grid.y_min, y_hi = grid.y_max;
  const int long_side = std::clamp(options.plot_pixels, 64, 4096);
  const int min_short = std::min(long_side, 120);
  {
    const double w = x_hi - x_lo, h = y_hi - y_lo;
    const double min_ratio = static_cast<double>(min_short) / long_side;
    if (h < w * min_ratio) {
      const double grow = 0.5 * (w * min_ratio - h);
      y_lo -= grow;
      y_hi += grow;
    } else if (w < h * min_ratio) {
      const double grow = 0.5 * (h * min_ratio - w);
      x_lo -= grow;
      x_hi += grow;
    }
  }
  const double world_w = x_hi - x_lo;
  const double world_h = y_hi - y_lo;
  int plot_w = long_side, plot_h = long_side;
  if (world_w >= world_h) {
    plot_h = std::max(min_short, static_cast<int>(std::lround(long_side * world_h / world_w)));
  } else {
    plot_w = std::max(min_short, static_cast<int>(std::lround(long_side * world_w / world_h)));
  }
  const double px_per_m_x = plot_w / world_w, px_per_m_y = plot_h / world_h;
  auto to_plot = [&](double x, double y) {
    return cv::Point(static_cast<int>(std::lround((x - x_lo) * px_per_m_x)),
                     static_cast<int>(std::lround((y_hi - y) * px_per_m_y)));
  };

  const ColormapTable colors(options.colormap);
  cv::Mat plot(plot_h, plot_w, CV_8UC3, kPaper);
  // Cells with something, coldest first so the hottest stay on top, each at least 5 px wide.
  const double cell_w = (grid.x_max - grid.x_min) / grid.width;
  const double cell_h = (grid.y_max - grid.y_min) / grid.height;
  std::vector<std::pair<float, int>> filled;
  for (int i = 0; i < static_cast<int>(grid.values.size()); ++i) {
    if (grid.values[i] > 0) filled.emplace_back(grid.values[i], i);
  }
  std::sort(filled.begin(), filled.end());
  const int min_px = 5;
  for (const auto& [value, index] : filled) {
    const int row = index / grid.width, col = index % grid.width;
    const cv::Point a = to_plot(grid.x_min + col * cell_w, grid.y_min + (row + 1) * cell_h);
    const cv::Point b = to_plot(grid.x_min + (col + 1) * cell_w, grid.y_min + row * cell_h);
    cv::Point centre((a.x + b.x) / 2, (a.y + b.y) / 2);
    const int half_w = std::max(min_px / 2, (b.x - a.x) / 2);
    const int half_h = std::max(min_px / 2, (b.y - a.y) / 2);
    const cv::Vec3b c = colors.At(value / scale_max);
    cv::rectangle(plot, {centre.x - half_w, centre.y - half_h},
                  {centre.x + half_w, centre.y + half_h}, cv::Scalar(c[0], c[1], c[2]),
                  cv::FILLED);
  }
  // Outlines, then each label once at the centre of its first outline.
  std::map<std::string, bool> labelled;
  const std::size_t outlines = std::min<std::size_t>(grid.outlines.size(), 256);
  for (std::size_t i = 0; i < outlines; ++i) {
    const ForceGrid::Outline& outline = grid.outlines[i];
    std::vector<cv::Point> points;
    bool finite = true;
    for (const auto& p : outline.points) {
      finite = finite && std::isfinite(p[0]) && std::isfinite(p[1]) && std::fabs(p[0]) < 1e6 &&
               std::fabs(p[1]) < 1e6;
      if (finite) points.push_back(to_plot(p[0], p[1]));
    }
    if (!finite || points.size() < 2) continue;
    const bool zone = outline.kind == ForceGrid::Outline::Kind::kGoalZone ||
                      outline.kind == ForceGrid::Outline::Kind::kForbidZone;
    cv::polylines(plot, points, true, OutlineColor(outline.kind), zone ? 2 : 1, cv::LINE_AA);
  }
  for (std::size_t i = 0; i < outlines; ++i) {
    const ForceGrid::Outline& outline = grid.outlines[i];
    if (outline.points.empty() || labelled[outline.label]) continue;
    labelled[outline.label] = true;
    double cx = 0, cy = 0;
    for (const auto& p : outline.points) {
      cx += p[0];
      cy += p[1];
    }
    cx /= outline.points.size();
    cy /= outline.points.size();
    if (!std::isfinite(cx) || !std::isfinite(cy)) continue;
    cv::Point at = to_plot(cx, cy);
    // A zone's label sits just above it, clear of the parts inside.
    if (outline.kind == ForceGrid::Outline::Kind::kGoalZone ||
        outline.kind == ForceGrid::Outline::Kind::kForbidZone) {
      double top_y = -1e300;
      for (const auto& p : outline.points) top_y = std::max(top_y, p[1]);
      at.y = to_plot(cx, top_y).y - 10;
      if (at.y < 12) at.y = to_plot(cx, cy).y;
    }
    if (at.x < 0 || at.y < 0 || at.x >= plot_w || at.y >= plot_h) continue;
    PutLabel(plot, outline.label, at + cv::Point(0, 4), 0.38);
  }
  if (filled.empty()) {
    const std::string text = "no contacts";
    PutLabel(plot, text, {plot_w / 2, plot_h / 2 + 6}, 0.7);
  }

  // Canvas: title on top, y axis left, x axis below, colour bar right.
  const int left = 70, top = 56, bottom = 56, right = 160;
  const int bar_h = std::max(plot_h, 200);
  cv::Mat canvas(top + bar_h + bottom, left + plot_w + right, CV_8UC3, kPaper);
  plot.copyTo(canvas(cv::Rect(left, top, plot_w, plot_h)));
  cv::rectangle(canvas, cv::Rect(left - 1, top - 1, plot_w + 2, plot_h + 2), kInk, 1);
  PutTitle(canvas, options.title);

  // Axis ticks at round values, the same step on both axes (metres).
  std::vector<double> xt = NiceTicks(x_lo, x_hi, 8);
  const double step = xt.size() >= 2 ? xt[1] - xt[0] : world_w;
  std::vector<double> yt;
  for (double t = std::ceil(y_lo / step - 1e-9) * step; t <= y_hi + step * 1e-9; t += step) {
    yt.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    if (yt.size() > 50) break;
  }
  for (double t : xt) {
    const int x = left + to_plot(t, y_lo).x;
    cv::line(canvas, {x, top + plot_h}, {x, top + plot_h + 5}, kInk, 1);
    const std::string label = TickLabel(t, step);
    PutText(canvas, label, {x - TextWidth(label, 0.4) / 2, top + plot_h + 20}, 0.4);
  }
  for (double t : yt) {
    const int y = top + to_plot(x_lo, t).y;
    cv::line(canvas, {left - 6, y}, {left - 1, y}, kInk, 1);
    const std::string label = TickLabel(t, step);
    PutText(canvas, label, {left - 9 - TextWidth(label, 0.4), y + 5}, 0.4);
  }
  PutText(canvas, "x (m)", {left + plot_w / 2 - 18, top + plot_h + 44}, 0.5);
  PutText(canvas, "y (m)", {8, top - 12}, 0.5);
  const cv::Rect bar(left + plot_w + 45, top + 40, 22, bar_h - 40);
  DrawColorBar(canvas, bar, colors, scale_max, options.quantity, options.unit);
  return canvas;
}

absl::StatusOr<std::string> EncodePng(const cv::Mat& image) {
  if (image.empty()) return absl::InvalidArgumentError("cannot encode an empty image");
  std::vector<unsigned char> bytes;
  if (!cv::imencode(".png", image, bytes)) {
    return absl::InternalError("OpenCV could not encode the image as PNG");
  }
  return std::string(bytes.begin(), bytes.end());
}

absl::Status WritePng(const std::filesystem::path& path, const cv::Mat& image,
                      std::string_view display_path) {
  absl::StatusOr<std::string> png = EncodePng(image);
  if (!png.ok()) return png.status();
  return WriteFileAtomically(path, *png, {}, display_path);
}

}  // namespace workerpair::heavy::render
