namespace Snapshotter.Tests.Deploy;

/// <summary>One PromQL query of the Grafana dashboard.</summary>
/// <param name="Panel">The panel's title (or the variable's name).</param>
/// <param name="RefId">The query's refId within the panel.</param>
/// <param name="Expr">The PromQL as written, with Grafana variables.</param>
internal sealed record DashboardQuery(string Panel, string RefId, string Expr);
