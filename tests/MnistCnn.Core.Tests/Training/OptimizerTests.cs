using MnistCnn.Core.Models;
using MnistCnn.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MnistCnn.Core.Tests.Training;

/// <summary>
/// The trainer's optimizers against PyTorch's documented update rules (computed here in double precision) and
/// against TorchSharp's optimizers used directly, and gradient clipping in both paths of the training step.
/// </summary>
[Collection(TorchGlobalState.Name)]
public sealed class OptimizerTests
{
    private static readonly float[] Start = [0.5f, -1.25f, 2f, 0.1f];
    private static readonly float[][] Gradients = [[0.3f, -0.7f, 1.1f, -0.05f], [-0.2f, 0.4f, 0.9f, 0.6f], [0.05f, 0.05f, -1.5f, 0.2f]];

    [Theory]
    [InlineData(0.0, false, 0.0)]
    [InlineData(0.9, false, 0.0)]
    [InlineData(0.9, true, 0.0)]
    [InlineData(0.8, true, 0.05)]
    public void Step_Sgd_FollowsPyTorchsUpdateRule(double momentum, bool nesterov, double weightDecay)
    {
        const double lr = 0.1;
        var options = new TrainerOptions { Optimizer = TrainingOptimizer.Sgd, LearningRate = lr, Momentum = momentum, Nesterov = nesterov, WeightDecay = weightDecay };
        var actual = Run(options);

        // torch.optim.SGD's documented algorithm (dampening 0).
        var theta = Start.Select(v => (double)v).ToArray();
        var buffer = new double[theta.Length];
        for (var t = 0; t < Gradients.Length; t++)
        {
            for (var i = 0; i < theta.Length; i++)
            {
                var g = Gradients[t][i] + (weightDecay * theta[i]);
                if (momentum != 0)
                {
                    buffer[i] = t == 0 ? g : (momentum * buffer[i]) + g;
                    g = nesterov ? g + (momentum * buffer[i]) : buffer[i];
                }

                theta[i] -= lr * g;
            }
        }

        actual.Should().Equal(theta, (a, e) => Math.Abs(a - e) < 1e-6);
    }

    [Theory]
    [InlineData(TrainingOptimizer.AdamW, 0.0)]
    [InlineData(TrainingOptimizer.AdamW, 0.1)]
    [InlineData(TrainingOptimizer.Adam, 0.0)]
    [InlineData(TrainingOptimizer.Adam, 0.1)]
    public void Step_AdamOrAdamW_FollowsPyTorchsUpdateRule(TrainingOptimizer optimizer, double weightDecay)
    {
        const double lr = 0.05, beta1 = 0.8, beta2 = 0.99, eps = 1e-6;
        var options = new TrainerOptions { Optimizer = optimizer, LearningRate = lr, Beta1 = beta1, Beta2 = beta2, Epsilon = eps, WeightDecay = weightDecay };
        var actual = Run(options);

        // torch.optim.Adam's and AdamW's documented algorithms: L2 decay in the gradient, or decoupled decay.
        var theta = Start.Select(v => (double)v).ToArray();
        var (m, v) = (new double[theta.Length], new double[theta.Length]);
        for (var t = 1; t <= Gradients.Length; t++)
        {
            for (var i = 0; i < theta.Length; i++)
            {
                var g = (double)Gradients[t - 1][i];
                if (optimizer == TrainingOptimizer.AdamW)
                {
                    theta[i] *= 1 - (lr * weightDecay);
                }
                else
                {
                    g += weightDecay * theta[i];
                }

                m[i] = (beta1 * m[i]) + ((1 - beta1) * g);
                v[i] = (beta2 * v[i]) + ((1 - beta2) * g * g);
                var mHat = m[i] / (1 - Math.Pow(beta1, t));
                var vHat = v[i] / (1 - Math.Pow(beta2, t));
                theta[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
        }

        actual.Should().Equal(theta, (a, e) => Math.Abs(a - e) < 1e-5);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("sgd_momentum")]
    [InlineData("sgd_nesterov_decay")]
    [InlineData("adam_decay")]
    [InlineData("adamw_decay")]
    public void Step_ThreeSteps_EqualsPyTorchsResult(string name)
    {
        var options = name switch
        {
            "sgd" => new TrainerOptions { Optimizer = TrainingOptimizer.Sgd, LearningRate = 0.1, Momentum = 0 },
            "sgd_momentum" => new TrainerOptions { Optimizer = TrainingOptimizer.Sgd, LearningRate = 0.1, Momentum = 0.9 },
            "sgd_nesterov_decay" => new TrainerOptions { Optimizer = TrainingOptimizer.Sgd, LearningRate = 0.1, Momentum = 0.8, Nesterov = true, WeightDecay = 0.05 },
            _ => new TrainerOptions
            {
                Optimizer = name == "adam_decay" ? TrainingOptimizer.Adam : TrainingOptimizer.AdamW,
                LearningRate = 0.05,
                Beta1 = 0.8,
                Beta2 = 0.99,
                Epsilon = 1e-6,
                WeightDecay = 0.1,
            },
        };

        Run(options).Should().Equal(PyTorchOptimFixture.Optimizer(name), (a, e) => Math.Abs(a - e) < 1e-6);
    }

    [Theory]
    [InlineData(TrainingOptimizer.AdamW, null)]
    [InlineData(TrainingOptimizer.Sgd, null)]
    [InlineData(TrainingOptimizer.Adam, null)]
    [InlineData(TrainingOptimizer.AdamW, 0.05)]
    [InlineData(TrainingOptimizer.Sgd, 0.05)]
    [InlineData(TrainingOptimizer.Adam, 0.05)]
    public void Step_TrainersOptimizer_EqualsTorchSharpsOptimizerUsedDirectly(TrainingOptimizer kind, double? clip)
    {
        var options = new TrainerOptions
        {
            Device = TrainingDevice.Cpu,
            Optimizer = kind,
            LearningRate = 0.02,
            Beta1 = 0.85,
            WeightDecay = 0.01,
            Momentum = 0.7,
            Nesterov = true,
            GradientClipNorm = clip,
        };
        using var model = SmallNet(seed: 3);
        using var reference = SmallNet(seed: 3);
        using var optimizer = new Trainer(options).CreateOptimizer(model);
        using OptimizerHelper direct = kind switch
        {
            TrainingOptimizer.AdamW => optim.AdamW(reference.parameters(), 0.02, 0.85, 0.999, 1e-8, 0.01),
            TrainingOptimizer.Sgd => optim.SGD(reference.parameters(), 0.02, momentum: 0.7, weight_decay: 0.01, nesterov: true),
            _ => optim.Adam(reference.parameters(), 0.02, 0.85, 0.999, 1e-8, 0.01),
        };
        optimizer.GetType().Name.Should().Be(kind == TrainingOptimizer.Adam ? "FusedAdam" : direct.GetType().Name);
        using var generator = new Generator(17);

        for (var s = 0; s < 5; s++)
        {
            using var scope = NewDisposeScope();
            var images = rand([8, 1, 28, 28], generator: generator);
            var labels = randint(10, [8], generator: generator);
            Trainer.Step(model, optimizer, images, labels, clip);

            // What a TorchSharp user writes: forward, loss, zero_grad, backward, clip_grad_norm_, step.
            var loss = nn.functional.cross_entropy(reference.call(images), labels);
            direct.zero_grad();
            loss.backward();
            if (clip is { } max)
            {
                nn.utils.clip_grad_norm_(reference.parameters(), max);
            }

            direct.step();
        }

        if (clip is null)
        {
            Weights.AssertIdentical(reference, model);
        }
        else
        {
            // The managed clipping sums the norm in double precision, libtorch in float32: the last digits may differ.
            foreach (var (actual, expected) in model.parameters().Zip(reference.parameters()))
            {
                actual.allclose(expected, rtol: 1e-5, atol: 1e-7).Should().BeTrue();
            }
        }
    }

    [Theory]
    [InlineData(0.5f)]
    [InlineData(1e4f)]
    public void ClipGradients_CpuFloat32_EqualsLibtorchsClipGradNorm(float max)
    {
        using var model = SmallNet(seed: 6);
        using var reference = SmallNet(seed: 6);
        using var optimizer = new Trainer(new TrainerOptions { Optimizer = TrainingOptimizer.Sgd }).CreateOptimizer(model);
        using var scope = NewDisposeScope();
        Backward(model, scale: 30);
        Backward(reference, scale: 30);

        var norm = Trainer.ClipGradients(optimizer, max);
        var expectedNorm = nn.utils.clip_grad_norm_(reference.parameters(), max);

        norm.Should().BeApproximately(expectedNorm, expectedNorm * 1e-6);
        foreach (var (actual, expected) in model.parameters().Zip(reference.parameters()))
        {
            actual.grad!.allclose(expected.grad!, rtol: 1e-6, atol: 1e-12).Should().BeTrue();
        }
    }

    [Fact]
    public void ClipGradients_NormAboveTheMaximum_ScalesTheGradientsToIt()
    {
        using var model = SmallNet(seed: 1);
        using var optimizer = new Trainer(new TrainerOptions { Optimizer = TrainingOptimizer.Sgd }).CreateOptimizer(model);
        using var scope = NewDisposeScope();
        Backward(model, scale: 100);
        var before = TotalNorm(model);
        var gradients = model.parameters().Select(p => p.grad!.clone()).ToArray();

        var reported = Trainer.ClipGradients(optimizer, 0.5);

        reported.Should().BeApproximately(before, before * 1e-5);
        before.Should().BeGreaterThan(1);
        TotalNorm(model).Should().BeApproximately(0.5, 1e-5);
        var coefficient = 0.5 / (before + 1e-6);
        foreach (var (parameter, original) in model.parameters().Zip(gradients))
        {
            // Every gradient is scaled by the same coefficient: the direction is kept.
            parameter.grad!.allclose(original * coefficient, rtol: 1e-5, atol: 1e-9).Should().BeTrue();
        }
    }

    [Fact]
    public void ClipGradients_NormBelowTheMaximum_LeavesTheGradientsUnchanged()
    {
        using var model = SmallNet(seed: 2);
        using var optimizer = new Trainer(new TrainerOptions { Optimizer = TrainingOptimizer.Sgd }).CreateOptimizer(model);
        using var scope = NewDisposeScope();
        Backward(model, scale: 1);
        var norm = TotalNorm(model);
        var gradients = model.parameters().SelectMany(p => p.grad!.data<float>().ToArray()).ToArray();

        Trainer.ClipGradients(optimizer, norm * 2);

        model.parameters().SelectMany(p => p.grad!.data<float>().ToArray()).Should().Equal(gradients);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Step_WithClipping_BoundsTheUpdateInBothPaths(bool convNet)
    {
        // Plain SGD at learning rate 1: the update is minus the (clipped) gradient, so its norm is the clipped norm.
        var options = new TrainerOptions { Device = TrainingDevice.Cpu, Optimizer = TrainingOptimizer.Sgd, Momentum = 0, LearningRate = 1, GradientClipNorm = 1e-3 };
        using nn.Module<Tensor, Tensor> model = convNet ? new ConvNet(seed: 4) : SmallNet(seed: 4);
        using nn.Module<Tensor, Tensor> unclipped = convNet ? new ConvNet(seed: 4) : SmallNet(seed: 4);
        using var optimizer = new Trainer(options).CreateOptimizer(model);
        using var unclippedOptimizer = new Trainer(options with { GradientClipNorm = null }).CreateOptimizer(unclipped);
        using var scope = NewDisposeScope();
        var before = Flat(model);
        var images = rand([8, 1, 28, 28], generator: new Generator(9));
        var labels = randint(10, [8], generator: new Generator(10));

        Trainer.Step(model, optimizer, images, labels, options.GradientClipNorm);
        Trainer.Step(unclipped, unclippedOptimizer, images, labels);

        Norm(Flat(model), before).Should().BeApproximately(1e-3, 1e-6);
        Norm(Flat(unclipped), before).Should().BeGreaterThan(1e-2, "the gradient is far larger than the clip");
    }

    private static double[] Run(TrainerOptions options)
    {
        using var model = nn.Linear(4, 1, hasBias: false);
        using (no_grad())
        {
            model.weight!.copy_(tensor(Start).reshape(1, 4));
        }

        using var optimizer = new Trainer(options).CreateOptimizer(model);
        foreach (var gradient in Gradients)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            (model.weight! * tensor(gradient).reshape(1, 4)).sum().backward();
            optimizer.step();
        }

        return [.. model.weight!.detach().data<float>().ToArray().Select(v => (double)v)];
    }

    private static Sequential SmallNet(long seed)
    {
        manual_seed(seed);
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 10));
    }

    private static void Backward(nn.Module<Tensor, Tensor> model, float scale)
    {
        var images = rand([4, 1, 28, 28], generator: new Generator(3)) * scale;
        var labels = randint(10, [4], generator: new Generator(4));
        nn.functional.cross_entropy(model.call(images) * scale, labels).backward();
    }

    private static double TotalNorm(nn.Module model) =>
        Math.Sqrt(model.parameters().Sum(p => p.grad!.square().sum().ToDouble()));

    private static float[] Flat(nn.Module model) => [.. model.parameters().SelectMany(p => p.detach().data<float>().ToArray())];

    private static double Norm(float[] a, float[] b) => Math.Sqrt(a.Zip(b).Sum(x => ((double)x.First - x.Second) * ((double)x.First - x.Second)));
}
