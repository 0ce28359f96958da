using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Mqtt;

namespace Gateway.Tests.Deploy;

/// <summary>
/// deploy/observability: the scrape configurations, alert rules and their unit tests through promtool, the compose
/// stack through docker-compose, and every dashboard panel's and alert's query through a real Prometheus scraping a
/// live gateway, so a renamed or missing metric fails here and not on an operator's wall.
/// </summary>
public sealed partial class ObservabilityKitTests
{
    private static readonly string Folder = RepositoryFiles.PathOf("deploy", "observability");
    private static readonly string AlertsPath = Path.Combine(Folder, "alerts.yml");
    private static readonly string DashboardPath = Path.Combine(Folder, "grafana", "dashboards", "gateway.json");

    [RequiresToolsFact("promtool")]
    public async Task The_scrape_configurations_and_the_alert_rules_pass_promtool_check()
    {
        foreach (var config in new[] { "prometheus.yml", "prometheus-cluster.yml" })
        {
            var (configExit, configOutput) = await ExternalProgram.RunAsync("promtool", ["check", "config", Path.Combine(Folder, config)]);
            Assert.True(configExit == 0, $"promtool check config {config} (exit {configExit}):\n{configOutput}");
        }

        var (rulesExit, rulesOutput) = await ExternalProgram.RunAsync("promtool", ["check", "rules", AlertsPath]);
        Assert.True(rulesExit == 0, $"promtool check rules (exit {rulesExit}):\n{rulesOutput}");
        Assert.Contains($"{AlertNames().Count} rules found", rulesOutput, StringComparison.Ordinal);
    }

    [RequiresToolsFact("promtool")]
    public async Task Every_alert_fires_and_clears_in_the_promtool_rule_tests()
    {
        var (exitCode, output) = await ExternalProgram.RunAsync("promtool", ["test", "rules", Path.Combine(Folder, "alerts.test.yml")]);

        Assert.True(exitCode == 0, $"promtool test rules (exit {exitCode}):\n{output}");
        var tests = await File.ReadAllTextAsync(Path.Combine(Folder, "alerts.test.yml"));
        Assert.All(AlertNames(), alert =>
        {
            // Each alert is expected firing by at least one test and expected silent by another.
            Assert.Matches($@"alertname:\s*{alert}\b", tests);
            Assert.True(Regex.Matches(tests, $@"alertname:\s*{alert}\s*\n\s*exp_alerts:\s*\[\]").Count > 0, $"{alert}: no test expects it to clear");
        });
    }

    [Fact]
    public void Every_alert_has_a_summary_and_a_runbook_entry_in_the_readme()
    {
        var readme = File.ReadAllText(RepositoryFiles.PathOf("README.md"));
        var alerts = File.ReadAllText(AlertsPath);

        Assert.NotEmpty(AlertNames());
        Assert.All(AlertNames(), alert =>
        {
            var rule = alerts[alerts.IndexOf($"alert: {alert}", StringComparison.Ordinal)..];
            var next = rule.IndexOf("- alert:", 1, StringComparison.Ordinal);
            rule = next < 0 ? rule : rule[..next];
            Assert.Contains("summary:", rule, StringComparison.Ordinal);
            Assert.Contains($"runbook: README.md#alert-{alert.ToLowerInvariant()}", rule.Replace("\"", "", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.Contains($"<a id=\"alert-{alert.ToLowerInvariant()}\"></a>", readme, StringComparison.Ordinal);
        });
    }

    [RequiresToolsFact("docker-compose")]
    public async Task The_stack_compose_file_is_valid_and_sends_the_gateways_traces_to_the_collector()
    {
        var (exitCode, output) = await ExternalProgram.RunAsync("docker-compose", ["-f", Path.Combine(Folder, "compose.yaml"), "config"]);

        Assert.True(exitCode == 0, $"docker-compose config (exit {exitCode}):\n{output}");
        foreach (var service in new[] { "gateway:", "prometheus:", "grafana:", "otel-collector:" })
        {
            Assert.Contains("  " + service, output, StringComparison.Ordinal);
        }

        Assert.Contains("Gateway__Telemetry__OtlpEndpoint: http://otel-collector:4317", output, StringComparison.Ordinal);
    }

    [RequiresToolsFact("prometheus")]
    public async Task Every_dashboard_panel_and_alert_expression_returns_series_from_a_live_gateway_under_load()
    {
        using var directory = new TempDirectory();
        var certificates = new TestCertificates(directory.Combine("certificates"));
        await using var cloud = await CloudReceiver.StartAsync(certificates.Server);
        // One device the cloud refuses for good (dead letters), one it cannot take now (retries, the circuit), the rest delivered.
        cloud.Respond = records =>
            records.Any(record => record.GetProperty("deviceId").GetString()!.StartsWith("poison", StringComparison.Ordinal)) ? (400, null)
            : records.Any(record => record.GetProperty("deviceId").GetString()!.StartsWith("stuck", StringComparison.Ordinal)) ? (503, null)
            : (200, null);
        await using var gateway = await GatewayProcess.StartAsync(directory.Combine("data"), new Dictionary<string, string>
        {
            ["Gateway:Sinks:0:Name"] = "file",
            ["Gateway:Sinks:0:Type"] = "file",
            ["Gateway:Sinks:0:Path"] = directory.Combine("data", "sink"),
            ["Gateway:Sinks:1:Name"] = "cloud",
            ["Gateway:Sinks:1:Type"] = "http",
            ["Gateway:Sinks:1:Url"] = cloud.Url.ToString(),
            ["Gateway:Sinks:1:CaCertificatePath"] = certificates.CaPath,
            ["Gateway:Delivery:BackoffBase"] = "00:00:00.050",
            ["Gateway:Delivery:BackoffCap"] = "00:00:00.200",
        });
        await SendLoadAsync(gateway);

        await using var prometheus = await PrometheusServer.StartAsync(LiveConfiguration(gateway.Operations.BaseAddress!.Port));
        var expressions = DashboardExpressions().Select(expression => ("panel", expression))
            .Concat(AlertExpressions().Select(expression => ("alert", expression)))
            .ToList();
        Assert.True(expressions.Count >= 25, $"only {expressions.Count} expressions found; is the dashboard or the rules file read right?");

        var problems = new List<string>();
        try
        {
            await Eventually.TrueAsync(async () => (problems = await ProblemsAsync(prometheus, expressions)).Count == 0,
                "every expression to return series", TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException)
        {
            Assert.Fail("Expressions that Prometheus could not answer with series from the live gateway:\n" + string.Join("\n", problems));
        }
    }

    private static async Task SendLoadAsync(GatewayProcess gateway)
    {
        foreach (var device in new[] { "kit-ok-1", "kit-ok-2", "poison-1", "stuck-1" })
        {
            using var accepted = await gateway.Http.PostJsonAsync(device, """{"t": 21.5}""");
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        using var refused = await gateway.Http.PostJsonAsync("kit-ok-1", """{"t": """);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);

        var (client, connected) = await MqttTestClient.ConnectAsync(gateway.MqttPort);
        using (client)
        {
            Assert.Equal(MQTTnet.MqttClientConnectResultCode.Success, connected.ResultCode);
            for (var i = 0; i < 5; i++)
            {
                var published = await client.PublishAsync("devices/kit-mqtt-1/telemetry", $$"""{"n": {{i}}}""");
                Assert.Equal(MQTTnet.MqttClientPublishReasonCode.Success, published.ReasonCode);
            }
        }
    }

    // The shipped prometheus.yml, pointed at the test's gateway, scraping and evaluating every second.
    private static string LiveConfiguration(int operationsPort)
    {
        var shipped = File.ReadAllText(Path.Combine(Folder, "prometheus.yml"));
        var live = shipped
            .Replace("gateway:8081", $"127.0.0.1:{operationsPort}", StringComparison.Ordinal)
            .Replace("15s", "1s", StringComparison.Ordinal)
            .Replace("- alerts.yml", "- " + AlertsPath, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{operationsPort}", live, StringComparison.Ordinal);
        Assert.Contains(AlertsPath, live, StringComparison.Ordinal);
        Assert.DoesNotContain("15s", live, StringComparison.Ordinal);
        return live;
    }

    // What is wrong now: a rule Prometheus evaluates with an error, an expression that does not evaluate, a panel
    // that returns no series, or a metric an alert reads that the gateway does not export.
    private static async Task<List<string>> ProblemsAsync(PrometheusServer prometheus, IReadOnlyList<(string Kind, string Expression)> expressions)
    {
        var problems = new List<string>();
        var rules = await prometheus.RulesAsync();
        if (rules.Count != AlertNames().Count)
        {
            problems.Add($"Prometheus loaded {rules.Count} rules, alerts.yml has {AlertNames().Count}");
        }

        problems.AddRange(rules.Where(rule => rule.GetProperty("health").GetString() != "ok")
            .Select(rule => $"rule {rule.GetProperty("name").GetString()}: health {rule.GetProperty("health").GetString()} "
                + (rule.TryGetProperty("lastError", out var error) ? error.GetString() : "")));
        foreach (var (kind, expression) in expressions)
        {
            var query = expression.Replace("$__rate_interval", "1m", StringComparison.Ordinal).Replace("$instance", ".*", StringComparison.Ordinal);
            try
            {
                // An alert's expression is empty unless it fires; what it must find are the series it compares.
                var series = await prometheus.QueryAsync(query);
                if (kind == "panel" && series.Count == 0)
                {
                    problems.Add($"panel: no series: {expression}");
                }

                foreach (var selector in Selectors(query))
                {
                    if ((await prometheus.QueryAsync(selector)).Count == 0)
                    {
                        problems.Add($"{kind}: no series for {selector} in: {expression}");
                    }
                }
            }
            catch (InvalidOperationException error)
            {
                problems.Add($"{kind}: {error.Message}: {expression}");
            }
        }

        return problems;
    }

    /// <summary>The instant-vector selectors of <paramref name="expression"/> that name a metric the gateway exports or <c>up</c>.</summary>
    private static IEnumerable<string> Selectors(string expression)
    {
        // Grouping and matching clauses list label names, not metrics.
        var withoutClauses = GroupingClause().Replace(expression, " ");
        foreach (Match match in Selector().Matches(withoutClauses))
        {
            var name = match.Groups["name"].Value;
            if (name == "up" || MetricPrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal)))
            {
                yield return name + match.Groups["labels"].Value;
            }
        }
    }

    private static readonly string[] MetricPrefixes = ["gateway_", "dotnet_", "orleans_", "http_server_", "kestrel_"];

    [GeneratedRegex("""\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)""")]
    private static partial Regex GroupingClause();

    [GeneratedRegex("""(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?<labels>\{[^}]*\})?""")]
    private static partial Regex Selector();

    private static List<string> AlertNames() =>
        [.. Regex.Matches(File.ReadAllText(AlertsPath), @"- alert:\s*(\w+)").Select(match => match.Groups[1].Value)];

    // Each rule's expr, folded (a '|' or '>' block) or on one line.
    private static List<string> AlertExpressions()
    {
        var lines = File.ReadAllLines(AlertsPath);
        var expressions = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].TrimStart();
            if (!trimmed.StartsWith("expr:", StringComparison.Ordinal))
            {
                continue;
            }

            var value = trimmed["expr:".Length..].Trim();
            if (value is "|" or ">" or "|-" or ">-")
            {
                var indent = lines[i].Length - trimmed.Length;
                var block = lines.Skip(i + 1).TakeWhile(line => line.Trim().Length == 0 || line.Length - line.TrimStart().Length > indent);
                value = string.Join(" ", block.Select(line => line.Trim()));
            }

            expressions.Add(value.Trim('\'', '"'));
        }

        return expressions;
    }

    private static List<string> DashboardExpressions()
    {
        var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardPath)).RootElement;
        var expressions = new List<string>();
        foreach (var panel in Panels(dashboard))
        {
            if (panel.TryGetProperty("targets", out var targets))
            {
                expressions.AddRange(targets.EnumerateArray().Select(target => target.GetProperty("expr").GetString()!));
            }
        }

        // The instance variable's query reads a metric too.
        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.GetProperty("type").GetString() == "query" && LabelValues().Match(QueryOf(variable)) is { Success: true } labelValues)
            {
                expressions.Add(labelValues.Groups["selector"].Value);
            }
        }

        return expressions;
    }

    private static string QueryOf(JsonElement variable) =>
        variable.GetProperty("query") is { ValueKind: JsonValueKind.Object } query ? query.GetProperty("query").GetString()! : variable.GetProperty("query").GetString()!;

    [GeneratedRegex("""label_values\((?<selector>[^,]+),""")]
    private static partial Regex LabelValues();

    private static IEnumerable<JsonElement> Panels(JsonElement container)
    {
        if (!container.TryGetProperty("panels", out var panels))
        {
            yield break;
        }

        foreach (var panel in panels.EnumerateArray())
        {
            yield return panel;
            foreach (var nested in Panels(panel))
            {
                yield return nested;
            }
        }
    }
}
