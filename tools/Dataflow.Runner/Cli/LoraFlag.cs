using System.CommandLine;
using Dataflow.Graph.Lora;

namespace Dataflow.Runner.Cli;

/// <summary>
/// <c>--lora [rank=8,alpha=16,targets=qkv,proj]</c>, for every verb that trains: present with no value
/// means the model file's <c>lora(...)</c> line (or the defaults); a value overrides those settings it names.
/// </summary>
public static class LoraFlag
{
    public static Option<string?> Create() => new("--lora")
    {
        Description = "Train LoRA adapters on the --from base, which stays frozen: [rank=N,alpha=A,targets=ROLE,ROLE...,tokens=special|none] " +
                      "(roles: " + string.Join(", ", LoraTargets.Roles.Keys) + "; tokens=special also trains the special tokens' embedding rows); " +
                      "unset settings come from the model file's lora(...) line, else rank 8, alpha 16, targets qkv,proj, tokens none (sft: special)",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>The spec given, or null when the flag is absent; a malformed value is a usage error naming the flag.</summary>
    public static LoraSpec? Read(ParseResult result, Option<string?> option)
    {
        var given = result.GetResult(option);
        if (given is null || given.Implicit) return null;
        var text = result.GetValue(option) ?? "";
        try
        {
            return LoraSpec.Parse(text);
        }
        catch (LoraException e)
        {
            throw new UsageException($"--lora {(text.Length == 0 ? "''" : text)}: {e.Message}");
        }
    }
}
