// Cases share one backend instance per name and the CPU kernels already use every core, so the
// tests run one at a time: parallel test classes would only contend and make timings noisy.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
