using Dataflow.Chat.Rl;
using Dataflow.Chat.Tasks;
using Dataflow.Graph.Dsl;
using Dataflow.Reinforcement;
using Dataflow.Tests.Dsl;
using Dataflow.Training;

namespace Dataflow.Tests.Chat;

/// <summary>
/// What <c>dataflow rl</c> and the speedrun's RL stage run without flags: the model file's
/// <c>train(rl_steps, rl_lr)</c>, else GRPO's steps and a tenth of the file's learning rate; and the
/// half-known task they practise on is what it says it is.
/// </summary>
public class ChatGrpoDefaultsTests
{
    private static TrainingDefaults Recipe(string file) =>
        ModelLoader.Load(DslTestSupport.ModelPath(file), new ModelOptions(null, new Dictionary<string, string>(), Training: true)).Training;

    [Fact]
    public void Chat_dfg_declares_its_rl_steps_and_rate()
    {
        var chat = Recipe("chat.dfg");
        Assert.Equal(300, ChatTaskGrpo.Steps(chat));
        Assert.Equal(1e-4, ChatTaskGrpo.LearningRate(chat), 12);
    }

    [Fact]
    public void Without_rl_settings_grpo_takes_its_default_steps_and_a_tenth_of_the_file_rate()
    {
        var gpt = Recipe("gpt.dfg");
        Assert.False(gpt.TrainArgs.ContainsKey("rl_lr"));
        Assert.Equal(new GrpoSettings().Steps, ChatTaskGrpo.Steps(gpt));
        Assert.Equal(OptimizerSettings.From(gpt, null).LearningRate / 10, ChatTaskGrpo.LearningRate(gpt), 12);
    }

    [Fact]
    public void Subtraction_hard_asks_three_digit_subtractions_with_a_borrow()
    {
        var task = ChatTasks.Create("subtraction-hard", () => throw new InvalidOperationException("needs no words"));
        for (int i = 0; i < 500; i++)
        {
            var problem = task.Make(new Random(i), i % 2 == 0 ? DataSplit.Train : DataSplit.Test);
            var m = System.Text.RegularExpressions.Regex.Match(problem.Prompt[^1].Content, @"(\d+) - (\d+)");
            Assert.True(m.Success, problem.Prompt[^1].Content);
            long a = long.Parse(m.Groups[1].Value), b = long.Parse(m.Groups[2].Value);
            Assert.InRange(a, 100, 999);
            Assert.InRange(b, 100, a);
            Assert.True(a % 10 < b % 10 || a / 10 % 10 < b / 10 % 10, $"{a} - {b} needs no borrow");
            Assert.Equal((a - b).ToString(System.Globalization.CultureInfo.InvariantCulture), problem.Expected);
        }
    }
}
