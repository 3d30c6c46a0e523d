// Contact-force heatmaps. MuJoCo simulates rigid bodies, so these show a contact-force
// ESTIMATE, not stress; every image says so in its title and colour-bar label.
//
// The part view's colour scale is anchored to the yield (PartHeatmapOptions::yield_newtons):
// 0 N at the bottom, the yield at 2/3 of the bar (marked), kYieldScaleTop x yield at the top
// (anything above is drawn in the top colour), so one colour means the same force in every run
// with that yield, whatever the run's own peak. A part is coloured by its PEAK TOTAL (the sum
// over its contacts at one step), which the legend says; contact points are dots coloured by
// their own (single-contact) force.
//
//   // (a) each part painted by its peak contact force (on a RenderThread):
//   WP_ASSIGN_OR_RETURN(cv::Mat parts, RenderPartHeatmap(model, data,
//                                                        {{"ball", 12.5}, {"ramp", 40.0}}, {}));
//   // (b) a top-down map of where contact force accumulated (no GL needed):
//   WP_ASSIGN_OR_RETURN(cv::Mat map, RenderForceGridImage(grid, {}));
//   WP_ASSIGN_OR_RETURN(std::string png, EncodePng(map));
#ifndef WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_HEATMAP_H_
#define WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_HEATMAP_H_

#include <mujoco/mujoco.h>

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/heavy/core/render/frame_renderer.h"

namespace workerpair::heavy::render {

// The peak total contact force on one part, in newtons. `body` names a body (all its geoms are
// painted), else a geom of the world body (a static part: the floor, a ramp, a wall); an
// unnamed world geom is "geom<N>", N its id.
struct BodyForce {
  std::string body;
  double peak_newtons = 0;
};

// A contact point (world coordinates) and its force.
struct ContactDot {
  std::array<float, 3> pos = {0, 0, 0};
  float force_newtons = 0;
};

// The top of the colour scale as a multiple of the yield.
inline constexpr double kYieldScaleTop = 1.5;

// The force at the top of the colour scale: kYieldScaleTop x yield when yield > 0, else the
// largest force given (1 when that is 0).
double ColorScaleTop(double yield_newtons, double largest_newtons);

struct PartHeatmapOptions {
  RenderSettings settings;  // size of the 3D view (the image adds a title strip and colour bar)
  CameraSpec camera;
  int colormap = cv::COLORMAP_JET;
  // The manifest's stress.yield_newtons: anchors the colour scale (see the file comment).
  double yield_newtons = 0;
  // Without a yield: the force at the top of the colour bar; 0 takes the largest peak given.
  double scale_max_newtons = 0;
  std::string title = "Contact-force estimate (rigid-body), peak total per part";
  // Drawn as dots where they happened, where nothing nearer hides them (at most 2000).
  std::vector<ContactDot> contacts;
  // Part names next to the loaded parts in the view, and the legend beside it.
  bool labels = true;
};

// Renders the scene in state `d` with each listed part's geoms painted by its peak force
// (parts not listed are light grey, "no contact"; materials and textures are dropped; sites
// hidden), the contact points as dots, part labels, and adds a title, a colour bar labelled
// "contact-force estimate, N" with the yield marked, and a legend. Must run on a thread with a
// current GL context (a RenderThread task); `m` is copied, never modified. NOT_FOUND for a body
// name not in the model; INVALID_ARGUMENT for a negative or non-finite force; errors of
// FrameRenderer::Create.
absl::StatusOr<cv::Mat> RenderPartHeatmap(const mjModel* m, mjData* d,
                                          const std::vector<BodyForce>& forces,
                                          const PartHeatmapOptions& options);

// The same with a renderer already built for the model (a video's): its model copy is painted
// for this one render and restored, so no second MuJoCo render context is made (on llvmpipe
// that is ~0.25 s per job). The view has the renderer's size; options.settings is not used.
absl::StatusOr<cv::Mat> RenderPartHeatmapWith(FrameRenderer& renderer, mjData* d,
                                              const std::vector<BodyForce>& forces,
                                              const PartHeatmapOptions& options);

// A regular grid over the x-y plane seen from above. values[row * width + col] is the cell
// whose centre is (x_min + (col + 0.5) * dx, y_min + (row + 0.5) * dy): row 0 is at y_min.
struct ForceGrid {
  int width = 0;
  int height = 0;
  double x_min = 0, x_max = 0, y_min = 0, y_max = 0;
  std::vector<float> values;
  // Outlines drawn over the map (at most 256 are drawn), each labelled once.
  struct Outline {
    enum class Kind { kMovingPart, kStaticPart, kGoalZone, kForbidZone };
    std::string label;
    Kind kind = Kind::kMovingPart;
    std::vector<std::array<double, 2>> points;  // world x-y, metres
  };
  std::vector<Outline> outlines;
};

struct GridHeatmapOptions {
  // Length in pixels of the longer side of the plot area (cells are scaled to fit).
  int plot_pixels = 480;
  int colormap = cv::COLORMAP_JET;
  // Value at the top of the colour bar; 0 takes the largest cell.
  double scale_max = 0;
  std::string title = "Where contact load accumulated (rigid-body estimate), top-down";
  // What a cell holds, for the colour bar: "<quantity>, <unit>".
  std::string quantity = "contact impulse";
  std::string unit = "N s";
};

// Colour-maps the grid with y up (cells with nothing stay white; cells with something are
// drawn at least a few pixels wide), the outlines and their labels over it, axes in metres
// with round tick values, a title and a colour bar; "no contacts" across the plot when every
// cell is 0. The plot keeps the world's aspect ratio.
// INVALID_ARGUMENT for an empty or oversized grid (more than 4096 cells a side), values not
// width*height long, non-finite or negative values, or an empty extent.
absl::StatusOr<cv::Mat> RenderForceGridImage(const ForceGrid& grid,
                                             const GridHeatmapOptions& options);

// The 256 colours of OpenCV colormap `colormap`, mapped once: cv::applyColorMap builds the
// whole map on every call, so colouring each grid cell, colour-bar row or contact dot with it
// cost most of a heatmap's time (~0.3 s for a 10 s run's top-down map on a 2-core machine).
class ColormapTable {
 public:
  explicit ColormapTable(int colormap);
  // The colour of `fraction` (clamped to 0..1; not finite: 0), as BGR.
  cv::Vec3b At(double fraction) const;

 private:
  std::array<cv::Vec3b, 256> colors_;
};

// The colour of `fraction` (clamped to 0..1) in OpenCV colormap `colormap`, as BGR. Maps the
// whole colormap: for more than one colour, use a ColormapTable.
cv::Vec3b ColormapColor(double fraction, int colormap);

// PNG bytes of an 8-bit image. INTERNAL when OpenCV cannot encode it.
absl::StatusOr<std::string> EncodePng(const cv::Mat& image);

// Encodes `image` as PNG and writes it atomically to `path`; `display_path` names it in errors.
absl::Status WritePng(const std::filesystem::path& path, const cv::Mat& image,
                      std::string_view display_path);

}  // namespace workerpair::heavy::render

#endif  // WORKERPAIR_SERVICES_HEAVY_CORE_RENDER_HEATMAP_H_
