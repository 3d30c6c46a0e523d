#include "services/light/core/lint/mesh_check.h"

#include <string>

#include "libs/scene/mesh_reader.h"
#include "libs/scene/scene_names.h"

namespace workerpair::light {
namespace {

// Turns the reader's problems into diagnostics, up to a cap; keeps no geometry.
class DiagnosticSink : public scene::MeshSink {
 public:
  DiagnosticSink(std::string_view path, std::size_t max) : path_(path), max_(max) {}

  absl::StatusOr<std::uint32_t> Vertex(double, double, double) override { return 0; }
  absl::Status Triangle(std::uint32_t, std::uint32_t, std::uint32_t) override {
    return absl::OkStatus();
  }
  bool Problem(const scene::MeshProblem& problem) override {
    if (found_.size() >= max_) return false;
    found_.push_back(Diagnostic{path_, problem.line, problem.line > 0 ? 1 : 0,
                                std::string(scene::MeshProblemName(problem.code)),
                                Severity::kError, scene::MeshProblemText(path_, problem)});
    return found_.size() < max_;
  }
  std::vector<Diagnostic> Take() { return std::move(found_); }

 private:
  std::string path_;
  std::size_t max_;
  std::vector<Diagnostic> found_;
};

}  // namespace

bool IsMeshFile(std::string_view relative_path) { return scene::IsMeshFileName(relative_path); }

std::vector<Diagnostic> CheckMeshFile(std::string_view relative_path, std::string_view content,
                                      std::size_t max_findings, const CallBudget* budget) {
  if (!IsMeshFile(relative_path) || max_findings == 0) return {};
  DiagnosticSink sink(relative_path, max_findings);
  // A budget that ran out is the caller's to report (see the header).
  scene::ReadMesh(relative_path, content, scene::MeshReadLimits{}, sink, budget).IgnoreError();
  return sink.Take();
}

}  // namespace workerpair::light
