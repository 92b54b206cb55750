using System.CommandLine;
using System.Text.Json.Nodes;
using Dataflow.Backends.Cpu;
using Dataflow.Backends.OpenCL;
using Dataflow.Backends.Vulkan;
using Dataflow.Engine.Backends;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Commands;

/// <summary><c>dataflow devices</c>: every backend and each device it can use, with its limits, or why it has none.</summary>
public static class DevicesCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("devices", "List every backend and device with its limits") { json };
        command.SetAction(r =>
        {
            var backends = new List<(string Backend, IReadOnlyList<DeviceInfo> Devices, string? Absent)>();
            using (var cpu = new CpuBackend()) backends.Add(("cpu", [cpu.Device], null));
            try { backends.Add(("opencl", OpenClBackend.ListDevices(), null)); }
            catch (BackendUnavailableException e) { backends.Add(("opencl", [], e.Message)); }
            try { backends.Add(("vulkan", VulkanBackend.ListDevices(), null)); }
            catch (BackendUnavailableException e) { backends.Add(("vulkan", [], e.Message)); }

            if (r.GetValue(json))
            {
                Console.WriteLine(new JsonObject
                {
                    ["backends"] = new JsonArray(backends.Select(b => (JsonNode)new JsonObject
                    {
                        ["name"] = b.Backend,
                        ["absent"] = b.Absent,
                        ["devices"] = new JsonArray(b.Devices.Select(d => (JsonNode)new JsonObject
                        {
                            ["name"] = d.Name, ["kind"] = d.Kind, ["memory_bytes"] = d.MemoryBytes,
                            ["compute_units"] = d.ComputeUnits, ["max_work_group_size"] = d.MaxWorkGroupSize,
                        }).ToArray()),
                    }).ToArray()),
                }.ToJsonString());
                return ExitCodes.Ok;
            }
            foreach (var (backend, devices, absent) in backends)
            {
                Console.WriteLine($"{backend}:");
                if (absent is not null) Console.WriteLine($"  unavailable: {absent}");
                else if (devices.Count == 0) Console.WriteLine("  no devices");
                for (int i = 0; i < devices.Count; i++)
                {
                    var d = devices[i];
                    Console.WriteLine($"  [{i}] {d.Name} ({d.Kind}): {d.ComputeUnits} compute units, {d.MemoryBytes / (1 << 20):N0} MiB, work-group ≤ {d.MaxWorkGroupSize}");
                    foreach (var (key, value) in d.Details) Console.WriteLine($"      {key}: {value}");
                }
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
