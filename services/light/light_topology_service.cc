#include "services/light/light_topology_service.h"

#include "libs/rpc/grpc_status.h"

namespace workerpair::light {
namespace {

void ToProto(Vec3 v, v1::TopologyVec3* out) {
  out->set_x(v.x);
  out->set_y(v.y);
  out->set_z(v.z);
}

void ToProto(const Box& box, v1::TopologyBox* out) {
  ToProto(box.min, out->mutable_min());
  ToProto(box.max, out->mutable_max());
}

Vec3 ToCore(const v1::TopologyVec3& v) { return {v.x(), v.y(), v.z()}; }

void ToProto(const ComponentReport& component, v1::TopologyComponent* out) {
  out->set_first_face(component.first_face);
  out->set_vertex_count(component.vertex_count);
  out->set_edge_count(component.edge_count);
  out->set_face_count(component.face_count);
  out->set_euler_characteristic(component.euler_characteristic);
  out->set_closed(component.closed);
  if (component.genus) out->set_genus(*component.genus);
}

void ToProto(const MeshAnalysis& analysis, v1::AnalyzeMeshResponse* out) {
  const MeshMetrics& metrics = analysis.metrics;
  const TopologyReport& topology = analysis.topology;
  out->set_path(analysis.path);
  out->set_format(FormatName(analysis.format));
  out->set_triangle_count(analysis.triangle_count);
  out->set_vertex_count(analysis.vertex_count);
  out->set_edge_count(topology.edge_count);
  out->set_volume(std::abs(metrics.signed_volume));
  out->set_inverted(metrics.signed_volume < 0);
  out->set_area(metrics.area);
  ToProto(metrics.bounds, out->mutable_bounding_box());
  ToProto(metrics.center_of_mass, out->mutable_center_of_mass());
  out->set_solid_center(metrics.solid_center);
  out->set_watertight(topology.watertight);
  out->set_manifold(topology.manifold);
  out->set_consistently_oriented(topology.consistently_oriented);
  out->set_boundary_edge_count(topology.boundary_edge_count);
  out->set_non_manifold_edge_count(topology.non_manifold_edge_count);
  out->set_non_manifold_vertex_count(topology.non_manifold_vertex_count);
  out->set_inconsistent_edge_count(topology.inconsistent_edge_count);
  out->set_component_count(analysis.component_count);
  for (const ComponentReport& c : topology.components) ToProto(c, out->add_components());
  out->set_euler_characteristic(topology.euler_characteristic);
  if (topology.genus) out->set_genus(*topology.genus);
  out->set_degenerate_face_count(metrics.degenerate_face_count);
  for (std::uint32_t f : metrics.degenerate_faces) out->add_degenerate_faces(f);
  out->set_duplicate_face_count(metrics.duplicate_face_count);
  for (std::uint32_t f : metrics.duplicate_faces) out->add_duplicate_faces(f);
}

AssemblyPartSpec ToCore(const v1::TopologyPart& part) {
  AssemblyPartSpec spec{.name = part.name(), .path = part.path()};
  spec.position = ToCore(part.pose().position());
  switch (part.pose().rotation_case()) {
    case v1::TopologyPose::kEulerDegrees:
      spec.euler_degrees = ToCore(part.pose().euler_degrees());
      break;
    case v1::TopologyPose::kQuaternion: {
      const v1::TopologyQuaternion& q = part.pose().quaternion();
      spec.quaternion = {q.w(), q.x(), q.y(), q.z()};
      spec.use_quaternion = true;
      break;
    }
    case v1::TopologyPose::ROTATION_NOT_SET:
      break;
  }
  return spec;
}

void ToProto(const AssemblyReport& report, v1::ValidateAssemblyResponse* out) {
  out->set_ok(report.ok);
  for (const PartResult& part : report.parts) {
    v1::TopologyPartResult* result = out->add_parts();
    result->set_name(part.name);
    ToProto(part.posed_bounds, result->mutable_posed_bounding_box());
    result->set_volume(part.volume);
    result->set_watertight(part.watertight);
    result->set_inside_build_zone(part.inside_build_zone);
    result->set_within_size_limit(part.within_size_limit);
  }
  for (const Interference& interference : report.interferences) {
    v1::TopologyInterference* result = out->add_interferences();
    result->set_part_a(report.parts[interference.part_a].name);
    result->set_part_b(report.parts[interference.part_b].name);
    result->set_overlap_volume(interference.overlap_volume);
    ToProto(interference.region, result->mutable_region());
    result->set_exceeds_threshold(interference.exceeds_threshold);
  }
  for (const AssemblyFinding& finding : report.findings) {
    v1::TopologyFinding* result = out->add_findings();
    result->set_code(finding.code);
    result->set_error(finding.error);
    result->set_part(finding.part);
    result->set_other_part(finding.other_part);
    result->set_message(finding.message);
  }
  ToProto(report.bounds, out->mutable_bounding_box());
}

}  // namespace

grpc::Status LightTopologyService::AnalyzeMesh(grpc::ServerContext* context,
                                               const v1::AnalyzeMeshRequest* request,
                                               v1::AnalyzeMeshResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  WP_GRPC_ASSIGN_OR_RETURN(ExpensiveCall call, policy_->Admit(context, ws.name, "AnalyzeMesh"));
  WP_GRPC_ASSIGN_OR_RETURN(MeshAnalysis analysis,
                           analyzer_->Analyze(ws.root, request->path(),
                                              {.weld_epsilon = request->weld_epsilon()},
                                              &call.budget()));
  ToProto(analysis, response);
  return grpc::Status::OK;
}

grpc::Status LightTopologyService::InspectFace(grpc::ServerContext* context,
                                               const v1::InspectFaceRequest* request,
                                               v1::InspectFaceResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  WP_GRPC_ASSIGN_OR_RETURN(ExpensiveCall call, policy_->Admit(context, ws.name, "InspectFace"));
  WP_GRPC_ASSIGN_OR_RETURN(FaceInspection face,
                           analyzer_->InspectFace(ws.root, request->path(), request->face_index(),
                                                  {.weld_epsilon = request->weld_epsilon()},
                                                  &call.budget()));
  response->set_face_index(face.index);
  for (int k = 0; k < 3; ++k) {
    response->add_vertex_indices(face.vertex_indices[k]);
    ToProto(face.corners[k], response->add_vertices());
  }
  ToProto(face.normal, response->mutable_normal());
  response->set_area(face.area);
  ToProto(face.centre, response->mutable_centre());
  response->set_degenerate(face.degenerate);
  return grpc::Status::OK;
}

grpc::Status LightTopologyService::InspectEdge(grpc::ServerContext* context,
                                               const v1::InspectEdgeRequest* request,
                                               v1::InspectEdgeResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  WP_GRPC_ASSIGN_OR_RETURN(ExpensiveCall call, policy_->Admit(context, ws.name, "InspectEdge"));
  WP_GRPC_ASSIGN_OR_RETURN(EdgeInspection edge,
                           analyzer_->InspectEdge(ws.root, request->path(), request->edge_index(),
                                                  {.weld_epsilon = request->weld_epsilon()},
                                                  &call.budget()));
  response->set_edge_index(edge.index);
  for (std::uint32_t v : edge.vertex_indices) response->add_vertex_indices(v);
  ToProto(edge.start, response->mutable_start());
  ToProto(edge.end, response->mutable_end());
  response->set_length(edge.length);
  for (std::uint32_t f : edge.adjacent_faces) response->add_adjacent_faces(f);
  response->set_consistent(edge.consistent);
  return grpc::Status::OK;
}

grpc::Status LightTopologyService::ValidateAssembly(grpc::ServerContext* context,
                                                    const v1::ValidateAssemblyRequest* request,
                                                    v1::ValidateAssemblyResponse* response) {
  WP_GRPC_ASSIGN_OR_RETURN(Workspace ws, store_->Get(request->workspace()));
  WP_GRPC_ASSIGN_OR_RETURN(ExpensiveCall call,
                           policy_->Admit(context, ws.name, "ValidateAssembly"));
  std::vector<AssemblyPartSpec> parts;
  parts.reserve(request->parts_size());
  for (const v1::TopologyPart& part : request->parts()) parts.push_back(ToCore(part));
  AssemblyOptions options{.interference_threshold = request->interference_threshold(),
                          .max_extent = request->max_extent(),
                          .samples_per_axis = static_cast<int>(
                              std::min<std::uint32_t>(request->samples_per_axis(), 1u << 20))};
  if (request->has_build_zone()) {
    options.build_zone =
        Box{ToCore(request->build_zone().min()), ToCore(request->build_zone().max())};
  }
  WP_GRPC_ASSIGN_OR_RETURN(AssemblyReport report,
                           analyzer_->ValidateAssembly(ws.root, parts, options,
                                                       {.weld_epsilon = request->weld_epsilon()},
                                                       &call.budget()));
  ToProto(report, response);
  return grpc::Status::OK;
}

}  // namespace workerpair::light
