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

namespace workerpair::heavy {
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

// A vertical colour bar in `bar` (top = `scale_max`), with ticks, and its label on two lines
// above it: "contact-force" / "estimate, <unit>".
void DrawColorBar(cv::Mat& canvas, cv::Rect bar, int colormap, double scale_max,
                  const std::string& unit) {
  for (int y = 0; y < bar.height; ++y) {
    const double fraction = 1.0 - static_cast<double>(y) / std::max(1, bar.height - 1);
    const cv::Vec3b color = ColormapColor(fraction, colormap);
    cv::line(canvas, {bar.x, bar.y + y}, {bar.x + bar.width - 1, bar.y + y},
             cv::Scalar(color[0], color[1], color[2]));
  }
  cv::rectangle(canvas, bar, kInk, 1);
  for (int i = 0; i <= 4; ++i) {
    const double fraction = i / 4.0;
    const int y = bar.y + static_cast<int>(std::lround((1.0 - fraction) * (bar.height - 1)));
    cv::line(canvas, {bar.x + bar.width, y}, {bar.x + bar.width + 4, y}, kInk, 1);
    PutText(canvas, FormatNumber(fraction * scale_max), {bar.x + bar.width + 7, y + 5}, 0.4);
  }
  PutText(canvas, "contact-force", {std::max(2, bar.x - 24), bar.y - 26}, 0.4);
  PutText(canvas, StrCat("estimate, ", unit), {std::max(2, bar.x - 24), bar.y - 10}, 0.4);
}

}  // namespace

cv::Vec3b ColormapColor(double fraction, int colormap) {
  if (!std::isfinite(fraction)) fraction = 0;
  const int level = static_cast<int>(std::lround(std::clamp(fraction, 0.0, 1.0) * 255.0));
  cv::Mat gray(1, 1, CV_8UC1, cv::Scalar(level));
  cv::Mat color;
  cv::applyColorMap(gray, color, colormap);
  return color.at<cv::Vec3b>(0, 0);
}

namespace {

// Body id -> peak force, and the colour scale's top. NOT_FOUND / INVALID_ARGUMENT as documented.
struct PaintPlan {
  std::map<int, double> peak_by_body;
  double scale_max = 1.0;
};

absl::StatusOr<PaintPlan> PlanPaint(const mjModel* m, const std::vector<BodyForce>& forces,
                                    const PartHeatmapOptions& options) {
  PaintPlan plan;
  double largest = 0;
  for (size_t i = 0; i < forces.size(); ++i) {
    const BodyForce& f = forces[i];
    if (!std::isfinite(f.peak_newtons) || f.peak_newtons < 0) {
      return absl::InvalidArgumentError(StrCat("force ", i, " (body '", f.body, "') is ",
                                               f.peak_newtons, "; expected finite and >= 0"));
    }
    const int id = mj_name2id(m, mjOBJ_BODY, f.body.c_str());
    if (id < 0) return absl::NotFoundError(StrCat("body '", f.body, "' is not in the model"));
    plan.peak_by_body[id] = std::max(plan.peak_by_body[id], f.peak_newtons);
    largest = std::max(largest, f.peak_newtons);
  }
  plan.scale_max = options.scale_max_newtons > 0 ? options.scale_max_newtons : largest;
  if (plan.scale_max <= 0) plan.scale_max = 1.0;
  return plan;
}

// Colormap for listed bodies, grey for the rest, no materials.
void Paint(mjModel* model, const PaintPlan& plan, int colormap) {
  for (int g = 0; g < model->ngeom; ++g) {
    float* rgba = model->geom_rgba + 4 * g;
    model->geom_matid[g] = -1;
    auto it = plan.peak_by_body.find(model->geom_bodyid[g]);
    if (it == plan.peak_by_body.end()) {
      rgba[0] = rgba[1] = rgba[2] = 0.72f;
      continue;
    }
    const cv::Vec3b bgr = ColormapColor(it->second / plan.scale_max, colormap);
    rgba[0] = bgr[2] / 255.0f;
    rgba[1] = bgr[1] / 255.0f;
    rgba[2] = bgr[0] / 255.0f;
    rgba[3] = 1.0f;
  }
}

// Renders the painted view (zone sites hidden: they would hide the parts they overlap) and
// composes the title strip and colour bar.
absl::StatusOr<cv::Mat> RenderPainted(FrameRenderer& renderer, mjData* d, const PaintPlan& plan,
                                      const PartHeatmapOptions& options) {
  absl::StatusOr<mjvCamera> camera = ResolveCamera(renderer.model(), options.camera);
  if (!camera.ok()) return camera.status();
  mjtByte saved_groups[mjNGROUP];
  for (int i = 0; i < mjNGROUP; ++i) {
    saved_groups[i] = renderer.option().sitegroup[i];
    renderer.option().sitegroup[i] = 0;
  }
  absl::StatusOr<cv::Mat> view = renderer.Render(d, *camera);
  for (int i = 0; i < mjNGROUP; ++i) renderer.option().sitegroup[i] = saved_groups[i];
  if (!view.ok()) return view.status();

  const int title_h = 34;
  const int panel_w = 150;
  cv::Mat canvas(view->rows + title_h, view->cols + panel_w, CV_8UC3, kPaper);
  view->copyTo(canvas(cv::Rect(0, title_h, view->cols, view->rows)));
  PutTitle(canvas, options.title);
  const int bar_top = title_h + 40;
  const cv::Rect bar(view->cols + 45, bar_top, 22, std::max(40, view->rows - 80));
  DrawColorBar(canvas, bar, options.colormap, plan.scale_max, "N");
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
  Paint(painted, *plan, options.colormap);
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
  Paint(model, *plan, options.colormap);
  absl::StatusOr<cv::Mat> image = RenderPainted(renderer, d, *plan, options);
  std::copy(saved_rgba.begin(), saved_rgba.end(), model->geom_rgba);
  std::copy(saved_matid.begin(), saved_matid.end(), model->geom_matid);
  return image;
}

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

  // Values -> 8-bit levels -> colours; row 0 (y_min) goes to the bottom of the image.
  cv::Mat levels(grid.height, grid.width, CV_8UC1);
  for (int row = 0; row < grid.height; ++row) {
    for (int col = 0; col < grid.width; ++col) {
      const double fraction =
          std::clamp(grid.values[static_cast<size_t>(row) * grid.width + col] / scale_max, 0.0,
                     1.0);
      levels.at<unsigned char>(grid.height - 1 - row, col) =
          static_cast<unsigned char>(std::lround(fraction * 255.0));
    }
  }
  cv::Mat cells;
  cv::applyColorMap(levels, cells, options.colormap);

  // Scale to the plot area keeping the world's aspect ratio.
  const double world_w = grid.x_max - grid.x_min;
  const double world_h = grid.y_max - grid.y_min;
  const int long_side = std::clamp(options.plot_pixels, 64, 4096);
  int plot_w = long_side;
  int plot_h = long_side;
  if (world_w >= world_h) {
    plot_h = std::max(32, static_cast<int>(std::lround(long_side * world_h / world_w)));
  } else {
    plot_w = std::max(32, static_cast<int>(std::lround(long_side * world_w / world_h)));
  }
  cv::Mat plot;
  cv::resize(cells, plot, cv::Size(plot_w, plot_h), 0, 0, cv::INTER_NEAREST);

  // Canvas: title on top, y axis left, x axis below, colour bar right.
  const int left = 80, top = 56, bottom = 56, right = 150;
  const int bar_h = std::max(plot_h, 160);
  cv::Mat canvas(top + std::max(plot_h, bar_h) + bottom, left + plot_w + right, CV_8UC3, kPaper);
  plot.copyTo(canvas(cv::Rect(left, top, plot_w, plot_h)));
  cv::rectangle(canvas, cv::Rect(left - 1, top - 1, plot_w + 2, plot_h + 2), kInk, 1);
  PutTitle(canvas, options.title);

  // Axis ticks and labels, five per axis.
  for (int i = 0; i <= 4; ++i) {
    const double f = i / 4.0;
    const int x = left + static_cast<int>(std::lround(f * (plot_w - 1)));
    cv::line(canvas, {x, top + plot_h}, {x, top + plot_h + 5}, kInk, 1);
    PutText(canvas, FormatNumber(grid.x_min + f * world_w), {x - 16, top + plot_h + 20}, 0.4);
    const int y = top + plot_h - 1 - static_cast<int>(std::lround(f * (plot_h - 1)));
    cv::line(canvas, {left - 6, y}, {left - 1, y}, kInk, 1);
    PutText(canvas, FormatNumber(grid.y_min + f * world_h), {8, y + 5}, 0.4);
  }
  PutText(canvas, "x (m)", {left + plot_w / 2 - 18, top + plot_h + 44}, 0.5);
  PutText(canvas, "y (m)", {8, top - 12}, 0.5);
  const cv::Rect bar(left + plot_w + 45, top + 40, 22, bar_h - 40);
  DrawColorBar(canvas, bar, options.colormap, scale_max, options.unit);
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

}  // namespace workerpair::heavy
