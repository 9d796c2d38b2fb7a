using Xunit.Abstractions;
using Xunit.Sdk;

namespace Snapshotter.KernelTests.Containerd;

/// <summary>
/// Runs a class's tests in the ordinal order of their method names (xunit's default order is stable but arbitrary): a
/// class whose first test must see a cold cache says which test that is by its name.
/// </summary>
public sealed class MethodNameOrderer : ITestCaseOrderer
{
    public const string TypeName = "Snapshotter.KernelTests.Containerd.MethodNameOrderer";

    public const string AssemblyName = "Snapshotter.KernelTests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases)
        where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.Name, StringComparer.Ordinal);
}
