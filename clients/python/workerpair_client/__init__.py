"""workerpair from Python: generated stubs (package workerpair.v1) and a small layer over them.

    from workerpair_client import ControllerClient, connect, directory_files

    controller = ControllerClient(connect("127.0.0.1:50053"), caller="agent-7")
    job = controller.run_flow("agent-7", directory_files("examples/scenes/ramp_goal"),
                              on_progress=lambda p: print(p.step, p.line))

See clients/python/README.md.
"""
from . import health
from .artifacts import Artifact, ArtifactAssembler, ArtifactError
from .channel import connect
from .controller import (ControllerClient, JobFailed, artifacts_of, flow_spec, is_finished,
                         simulation_spec, verify_spec)
from .errors import error_info, error_reason, retry_delay_s, retry_elsewhere
from .heavy import HeavyClient, SimulationOutcome
from .payload import (AskingPayloadRequests, Payload, directory_files, pack_directory, pack_files,
                      payload_requests)

__all__ = [
    "Artifact", "ArtifactAssembler", "ArtifactError", "AskingPayloadRequests", "ControllerClient",
    "HeavyClient",
    "JobFailed", "Payload", "SimulationOutcome", "artifacts_of", "connect", "directory_files",
    "error_info", "error_reason", "flow_spec", "health", "is_finished", "pack_directory", "pack_files",
    "payload_requests", "retry_delay_s", "retry_elsewhere", "simulation_spec", "verify_spec",
]
__version__ = "0.1.0"
