#include "libs/rpc/call_log_interceptor.h"

#include <spdlog/spdlog.h>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <memory>
#include <optional>

#include "libs/rpc/grpc_status.h"
#include "libs/common/job_log.h"
#include "libs/common/str_cat.h"
#include "libs/rpc/trace_metadata.h"

namespace workerpair {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The request's top-level string field `workspace`, if it has one.
std::string WorkspaceField(const google::protobuf::Message& message) {
  const google::protobuf::FieldDescriptor* field =
      message.GetDescriptor()->FindFieldByName("workspace");
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      field->is_repeated()) {
    return "";
  }
  std::string value = message.GetReflection()->GetString(message, field);
  return ValidRequestId(value) ? value : "";  // a name a log line holds as it is
}

class CallLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallLogInterceptor(grpc::experimental::ServerRpcInfo* info, std::string service,
                     const RpcMetricsInterceptorFactory::MethodLabels& labels)
      : info_(info), service_(std::move(service)), labels_(labels) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      const auto* metadata = methods->GetRecvInitialMetadata();
      if (metadata != nullptr) {
        traced_ = metadata->find(kRequestIdHeader) != metadata->end();
      }
      // An untraced call is logged at debug only: with debug off it costs nothing more.
      spdlog::logger* logger = spdlog::default_logger_raw();
      if (metadata != nullptr && (traced_ || (logger && logger->should_log(spdlog::level::debug)))) {
        log_.emplace(JobLog::Identity{.service = service_,
                                      .trace = TraceFromServerMetadata(*metadata),
                                      .replica = HostName(),
                                      .kind = StrCat(labels_.first, "/", labels_.second)});
        if (!log_->trace().job_id.empty()) log_->SetJobId(log_->trace().job_id);
      }
    }
    // workerpair's own services are generated protobuf services, so their received message
    // is a google::protobuf::Message; the first one names the workspace. Others are not
    // (gRPC's health service reads raw ByteBuffers): never cast theirs.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) && log_ &&
        workspace_.empty() && !saw_message_ && labels_.first.rfind("workerpair.", 0) == 0) {
      saw_message_ = true;
      if (void* message = methods->GetRecvMessage()) {
        workspace_ = WorkspaceField(*static_cast<google::protobuf::Message*>(message));
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) && log_) {
      const grpc::Status status = methods->GetSendStatus();
      const absl::Status ours = FromGrpcStatus(status);
      if (log_->trace().workspace.empty() && !workspace_.empty()) log_->SetWorkspace(workspace_);
      std::vector<JobLogField> fields;
      fields.emplace_back("seconds", JobLogValue::Number(absl::ToDoubleSeconds(log_->elapsed())));
      for (JobLogField& field : StatusFields(ours)) fields.push_back(std::move(field));
      log_->Log(traced_ ? spdlog::level::info : spdlog::level::debug, "call", fields);
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
  std::string service_;
  const RpcMetricsInterceptorFactory::MethodLabels& labels_;
  std::optional<JobLog> log_;
  bool traced_ = false;
  bool saw_message_ = false;
  std::string workspace_;
};

}  // namespace

grpc::experimental::Interceptor* CallLogInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new CallLogInterceptor(info, service_, methods_->LabelsFor(info->method()));
}

}  // namespace workerpair
